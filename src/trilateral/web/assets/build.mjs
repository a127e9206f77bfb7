// Build the console's browser assets into src/trilateral/web/static/ (run by `make install` / `npm run build:web`).
import { build } from "esbuild";
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..", "..");
const stat = join(here, "..", "static");
await build({
  entryPoints: [join(here, "graph.entry.js")], bundle: true, minify: true, format: "iife",
  target: ["chrome100", "firefox100", "safari15"], outfile: join(stat, "graph.bundle.js"),
  legalComments: "eof",
});
copyFileSync(join(root, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(stat, "htmx.min.js"));
console.log("built static/graph.bundle.js and static/htmx.min.js");
