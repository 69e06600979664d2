# A small JSON writer that keeps every double exactly.
#
# jsonlite (1.8.4) prints at most 15 significant digits, which does not round-trip a double. Here each number is
# printed with the fewest significant digits (15, 16 or 17) that read back as the identical double, so
# JSON.parse in JavaScript gives back exactly the value R computed.
#
# Rules (as jsonlite's auto_unbox): a named list is an object, an unnamed list an array; an atomic vector of
# length 1 is a scalar unless wrapped in I() (then an array of one); a longer vector is an array; a matrix is an
# array of its rows. NA, NaN, +-Inf and NULL are written as null.

json_number <- function(x) {
  out <- character(length(x))
  bad <- !is.finite(x)
  out[bad] <- "null"
  for (i in which(!bad)) {
    v <- x[i]
    s <- NULL
    for (d in 15:17) {
      s <- sprintf(paste0("%.", d, "g"), v)
      if (as.numeric(s) == v) break
    }
    out[i] <- s
  }
  out
}

json_string <- function(x) {
  out <- ifelse(is.na(x), "null", {
    s <- gsub("\\\\", "\\\\\\\\", x)
    s <- gsub("\"", "\\\\\"", s)
    s <- gsub("\n", "\\\\n", s)
    s <- gsub("\t", "\\\\t", s)
    paste0("\"", s, "\"")
  })
  out
}

json_atoms <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.logical(x)) return(ifelse(is.na(x), "null", ifelse(x, "true", "false")))
  if (is.character(x)) return(json_string(x))
  if (is.numeric(x)) return(json_number(as.double(x)))
  stop("json_atoms: unsupported type ", class(x)[1])
}

to_json <- function(x, indent = 0L) {
  pad <- strrep("  ", indent)
  pad1 <- strrep("  ", indent + 1L)
  if (is.null(x)) return("null")
  if (is.matrix(x)) {
    if (nrow(x) == 0) return("[]")
    rows <- vapply(seq_len(nrow(x)), function(i) paste0("[", paste(json_atoms(x[i, ]), collapse = ", "), "]"), "")
    return(paste0("[\n", paste0(pad1, rows, collapse = ",\n"), "\n", pad, "]"))
  }
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", indent = indent + 1L)
    if (!is.null(names(x))) {
      if (any(names(x) == "")) stop("to_json: a list mixes named and unnamed elements")
      items <- paste0(json_string(names(x)), ": ", items)
    }
    open <- if (is.null(names(x))) "[" else "{"
    close <- if (is.null(names(x))) "]" else "}"
    return(paste0(open, "\n", paste0(pad1, items, collapse = ",\n"), "\n", pad, close))
  }
  as_array <- inherits(x, "AsIs")
  x <- unclass(x)
  if (length(x) == 1 && !as_array) return(json_atoms(x))
  paste0("[", paste(json_atoms(x), collapse = ", "), "]")
}

write_json_file <- function(x, path) {
  txt <- paste0(to_json(x), "\n")
  writeLines(txt, path, sep = "", useBytes = TRUE)
  # Prove that the file reads back to the same numbers (jsonlite parses doubles with strtod: exact).
  if (requireNamespace("jsonlite", quietly = TRUE)) {
    back <- jsonlite::fromJSON(path, simplifyVector = FALSE)
    check_roundtrip(x, back, path)
  }
  invisible(path)
}

check_roundtrip <- function(x, back, where) {
  if (is.null(x)) return(invisible(TRUE))
  if (is.matrix(x)) {
    for (i in seq_len(nrow(x))) check_roundtrip(I(x[i, ]), back[[i]], paste0(where, "[", i, "]"))
    return(invisible(TRUE))
  }
  if (is.list(x)) {
    for (k in seq_along(x)) check_roundtrip(x[[k]], back[[k]], paste0(where, "/", if (is.null(names(x))) k else names(x)[k]))
    return(invisible(TRUE))
  }
  if (is.numeric(x)) {
    v <- as.double(unclass(x))
    b <- vapply(if (is.list(back)) back else list(back), function(e) if (is.null(e)) NA_real_ else as.double(e), 0)
    ok <- (is.finite(v) & v == b) | (!is.finite(v) & is.na(b))
    if (!all(ok)) stop("JSON round trip changed a number at ", where)
  }
  invisible(TRUE)
}
