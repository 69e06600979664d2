/**
 * Vega-Lite -> SVG (vega's headless SVG renderer, no canvas) -> PNG (@resvg/resvg-js with the system fonts).
 *
 * @example
 * const svg = await renderSvg(kmSpec(fig));
 * const png = svgToPng(svg);            // 2x, for slides and papers
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  // the loader refuses every URL: a report embeds its data and never fetches
  // (vega only logs a failed load and draws an empty figure, so the refusal is raised after rendering)
  const loader = vega.loader();
  const refused: string[] = [];
  loader.load = async (uri: string) => {
    refused.push(uri);
    throw new Error(`refused ${uri}`);
  };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader, logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    if (refused.length) throw new Error(`report figures embed their data; this figure asks to load ${refused.join(', ')}`);
    return svg;
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, zoom = 2): Uint8Array {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: zoom }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return r.render().asPng();
}
