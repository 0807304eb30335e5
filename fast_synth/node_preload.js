// Preloaded into the jsii kernel's node process (`NODE_OPTIONS=--require <this file>`, set by
// provider_loader.install()). It changes two things in memory while modules are compiled, and
// nothing on disk:
//
// 1. Lazy provider exports. A provider package's lib/index.js is one long list of
//        exports.vpc = require("./vpc");
//    (CDK Terrain's: `exports.vpc = __importStar(require("./vpc/index"));`), so loading the
//    package evaluates all ~2,200 resource modules (224 MB of JavaScript), while a stack
//    touches a few dozen. Each of those lines becomes a getter that requires its module
//    on first access and then caches it as a plain property. The jsii kernel reaches a type
//    through `module.vpc.Vpc`, which runs the getter. An index file of any other shape is
//    compiled unchanged (said once on stderr).
// 2. No token creation stacks. cdktf records a full stack trace (formatted as text) for every
//    token it creates, about 300 per environment, only to print it if that token later fails to
//    resolve; it was the largest single cost of building a stack in node. cdktf's
//    `captureStackTrace` returns a one-line note instead. The synthesized JSON never contains
//    these traces (the App already turns construct metadata traces off).
// 3. cdktf's `util.isArray`. cdktf 0.21 (archived: it will not be fixed) calls node's
//    deprecated `util.isArray`, and Node 22 prints a DEP0044 warning on stderr on its first use,
//    ahead of the program's own messages. When cdktf loads, `util.isArray` becomes
//    `Array.isArray`, the replacement node's deprecation notice names (the same function).
//    CDK Terrain no longer calls it.
//
// Environment:
//   CDKTF_LAZY_NODE_PACKAGES      comma-separated npm package names whose main file is rewritten
//   CDKTF_TOKEN_CREATION_STACKS   1: keep cdktf's token creation stacks (to debug a token error)
//   CDKTF_LAZY_NODE_STATS         optional file: one JSON line per change applied, so a test can
//                                 tell whether it really applied (and to how many exports)
//   CDKTF_FULL_PROVIDER_IMPORT    1: change nothing (the stock path), even when inherited
"use strict";

const fs = require("fs");
const path = require("path");
const Module = require("module");

// CDKTF_FULL_PROVIDER_IMPORT=1 means the stock path, even when NODE_OPTIONS was inherited.
const STOCK = process.env.CDKTF_FULL_PROVIDER_IMPORT === "1";
const PACKAGES = new Set(
  STOCK ? [] : (process.env.CDKTF_LAZY_NODE_PACKAGES || "").split(",").filter(Boolean),
);
const SKIP_CREATION_STACKS = !STOCK && process.env.CDKTF_TOKEN_CREATION_STACKS !== "1";
// The stack-trace helper that the core library's tokens call on creation: cdktf's own copy, or
// CDK Terrain's (the same module in its fork, `cdktn`).
const CORE_PACKAGES = ["cdktf", "cdktn"];
const STACK_TRACE_MODULE = path.join("lib", "tokens", "private", "stack-trace.js");

/** "cdktf" or "cdktn" when `filename` is that package's stack-trace module, else null. */
function stackTraceModuleOf(filename) {
  return (
    CORE_PACKAGES.find((core) =>
      filename.endsWith(path.join("node_modules", core, STACK_TRACE_MODULE)),
    ) ?? null
  );
}
const NOT_RECORDED =
  "(token creation stack not recorded: set CDKTF_TOKEN_CREATION_STACKS=1 to record it)";
const STATS_FILE = process.env.CDKTF_LAZY_NODE_STATS;
// One eager submodule export per line, as tsc emits `export * as vpc from "./vpc"`: a bare
// require, or (with esModuleInterop) one wrapped in tsc's own `__importStar` helper.
const EXPORT_LINE =
  /^exports\.([A-Za-z_$][\w$]*) = (?:require\("(\.\/[\w./-]+)"\)|__importStar\(require\("(\.\/[\w./-]+)"\)\));$/gm;
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

const warned = new Set();

/** The rewritten source and its number of lazy exports, or null when the shape is unknown. */
function lazySource(source) {
  const requires = (source.match(ANY_REQUIRE) || []).length;
  let lazy = 0;
  const rewritten = source.replace(EXPORT_LINE, (_line, name, bare, wrapped) => {
    lazy += 1;
    const load = bare
      ? `require(${JSON.stringify(bare)})`
      : `__importStar(require(${JSON.stringify(wrapped)}))`;
    return `__lazyExport(exports, ${JSON.stringify(name)}, () => ${load});`;
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

/** Says `message` on stderr the first time `topic` comes up. */
function warnOnce(topic, message) {
  if (!warned.has(topic)) {
    warned.add(topic);
    process.stderr.write(`node_preload: ${message}\n`);
  }
}

/** Node's own compile, with the lazy rewrite when `filename` is a target package's index. */
function compileLazily(module, content, filename) {
  const packageName = targetPackage(filename);
  if (packageName === null) {
    return compile.call(module, content, filename);
  }
  const result = lazySource(content);
  record({ package: packageName, file: filename, lazy: result === null ? 0 : result.lazy });
  if (result === null) {
    warnOnce(
      "lazy",
      `${filename} has an unrecognised shape; loading it unchanged (every submodule eagerly)`,
    );
    return compile.call(module, content, filename);
  }
  return compile.call(module, result.source, filename);
}

/** After the core's stack-trace module has run: its export returns the note instead of a trace. */
function skipCreationStacks(module, core) {
  if (typeof module.exports.captureStackTrace !== "function") {
    record({ package: core, file: module.filename, creation_stacks: "kept" });
    warnOnce(
      "stacks",
      `${module.filename} has an unrecognised shape; token creation stacks stay on`,
    );
    return;
  }
  module.exports.captureStackTrace = () => [NOT_RECORDED];
  record({ package: core, file: module.filename, creation_stacks: "skipped" });
}

const compile = Module.prototype._compile;
Module.prototype._compile = function compileWithPreload(content, filename) {
  const result = compileLazily(this, content, filename);
  const core = STOCK ? null : stackTraceModuleOf(filename);
  if (core === "cdktf") {
    require("util").isArray = Array.isArray;
  }
  if (core !== null && SKIP_CREATION_STACKS) {
    skipCreationStacks(this, core);
  }
  return result;
};
