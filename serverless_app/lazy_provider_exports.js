// Preloaded into the jsii kernel's node process (`NODE_OPTIONS=--require <this file>`, set by
// provider_loader.install()). A provider package's lib/index.js is one long list of
//     exports.vpc = require("./vpc");
// so loading the package evaluates all ~2,200 resource modules (224 MB of JavaScript), while a
// stack touches a few dozen. When such an index file is compiled, each of those lines becomes a
// getter that requires its module on first access and then caches it as a plain property.
// Nothing on disk changes; the jsii kernel reaches a type through `module.vpc.Vpc`, which runs
// the getter. An index file of any other shape is compiled unchanged (said once on stderr).
//
// Environment:
//   CDKTF_LAZY_NODE_PACKAGES  comma-separated npm package names whose main file is rewritten
//   CDKTF_LAZY_NODE_STATS     optional file: one JSON line per package handled, so a test can
//                             tell whether the rewrite really applied (and to how many exports)
"use strict";

const fs = require("fs");
const path = require("path");
const Module = require("module");

// CDKTF_FULL_PROVIDER_IMPORT=1 means the stock path, even when NODE_OPTIONS was inherited.
const PACKAGES = new Set(
  process.env.CDKTF_FULL_PROVIDER_IMPORT === "1"
    ? []
    : (process.env.CDKTF_LAZY_NODE_PACKAGES || "").split(",").filter(Boolean),
);
const STATS_FILE = process.env.CDKTF_LAZY_NODE_STATS;
// One eager submodule export per line, as tsc emits `export * as vpc from "./vpc"`.
const EXPORT_LINE = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/gm;
const ANY_REQUIRE = /\brequire\(/g;
// Appended to the rewritten file; a function declaration, so it is hoisted above its uses.
const HELPER = `
function __lazyExport(target, name, load) {
  const settle = (value) =>
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(target, name, {
    enumerable: true,
    configurable: true,
    get() {
      const value = load();
      settle(value);
      return value;
    },
    set: settle,
  });
}
`;

let warned = false;

/** The rewritten source and its number of lazy exports, or null when the shape is unknown. */
function lazySource(source) {
  const requires = (source.match(ANY_REQUIRE) || []).length;
  let lazy = 0;
  const rewritten = source.replace(EXPORT_LINE, (_line, name, request) => {
    lazy += 1;
    return `__lazyExport(exports, ${JSON.stringify(name)}, () => require(${JSON.stringify(request)}));`;
  });
  // Every require must be one of the recognised lines: anything else might depend on load order.
  if (lazy === 0 || lazy !== requires || source.includes("__lazyExport")) {
    return null;
  }
  return { source: rewritten + HELPER, lazy };
}

/** The npm package name when `filename` is the main file of a package we were asked to rewrite. */
function targetPackage(filename) {
  if (PACKAGES.size === 0 || path.basename(filename) !== "index.js") {
    return null;
  }
  for (let dir = path.dirname(filename), up = 0; up < 3; dir = path.dirname(dir), up += 1) {
    let manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    } catch {
      continue;
    }
    const main = path.resolve(dir, manifest.main || "index.js");
    const isMain = main === filename || `${main}.js` === filename;
    return isMain && PACKAGES.has(manifest.name) ? manifest.name : null;
  }
  return null;
}

function record(stats) {
  if (STATS_FILE) {
    fs.appendFileSync(STATS_FILE, `${JSON.stringify({ pid: process.pid, ...stats })}\n`);
  }
}

const compile = Module.prototype._compile;
Module.prototype._compile = function compileWithLazyExports(content, filename) {
  const packageName = targetPackage(filename);
  if (packageName !== null) {
    const result = lazySource(content);
    if (result === null) {
      record({ package: packageName, file: filename, lazy: 0 });
      if (!warned) {
        warned = true;
        process.stderr.write(
          `lazy_provider_exports: ${filename} has an unrecognised shape; loading it unchanged ` +
            "(every submodule eagerly)\n",
        );
      }
    } else {
      record({ package: packageName, file: filename, lazy: result.lazy });
      return compile.call(this, result.source, filename);
    }
  }
  return compile.call(this, content, filename);
};
