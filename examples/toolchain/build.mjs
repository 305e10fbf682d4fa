// Build every example app the way a user would, from the packed npm tarball:
//   node examples/toolchain/build.mjs TOOLCHAIN_DIR OUT_DIR
// For each examples/<app>/ with a package.json: copy its sources to OUT_DIR/<app>/, install the
// tarball as node_modules/ipfs-accelerate and link every other dependency from the toolchain
// (`npm ci` of this directory's lock, done by `cargo xtask setup`) at exactly the version the
// app asks for, type-check it with `tsc --strict`, and `vite build` it into OUT_DIR/<app>/dist.
// Any warning from either tool fails the build.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const examples = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(examples, "..");
const [toolchain, out] = process.argv.slice(2).map((p) => resolve(p));
if (!toolchain || !out) throw new Error("usage: node build.mjs TOOLCHAIN_DIR OUT_DIR");
const tools = join(toolchain, "node_modules");

const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));
const run = (program, args, cwd) => execFileSync(program, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// Packing runs no scripts: the wasm builds are made first (`cargo xtask build-wasm`).
const packed = JSON.parse(run("npm", ["pack", join(repo, "npm"), "--json", "--ignore-scripts", "--pack-destination", out], out));
const tarball = join(out, packed[0].filename);

const apps = readdirSync(examples).filter((d) => d !== "toolchain" && existsSync(join(examples, d, "package.json")));
for (const app of apps) {
  const source = join(examples, app);
  const dest = join(out, app);
  cpSync(source, dest, { recursive: true, filter: (p) => !/[/\\](node_modules|dist)$/.test(p) });
  const modules = join(dest, "node_modules");
  const own = join(modules, "ipfs-accelerate");
  mkdirSync(own, { recursive: true });
  run("tar", ["xzf", tarball, "-C", own, "--strip-components=1"], dest);

  const manifest = readJson(join(dest, "package.json"));
  const wanted = { ...manifest.dependencies, ...manifest.devDependencies };
  for (const [name, version] of Object.entries(wanted)) {
    if (name === "ipfs-accelerate") continue;
    const installed = join(tools, name);
    const have = existsSync(join(installed, "package.json")) ? readJson(join(installed, "package.json")).version : null;
    if (have !== version) {
      throw new Error(`examples/${app}: ${name}@${version} is not in examples/toolchain (it has ${have ?? "none"}); pin the same version in both`);
    }
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(installed, join(modules, name), "dir");
  }

  const checked = run(process.execPath, [join(tools, "typescript/bin/tsc"), "-p", dest], dest);
  if (checked.trim()) throw new Error(`examples/${app}: tsc:\n${checked}`);
  // Vite prints warnings (and only those) at this level.
  const built = run(process.execPath, [join(tools, "vite/bin/vite.js"), "build", "--logLevel", "warn", dest], dest);
  if (built.trim()) throw new Error(`examples/${app}: vite build warned:\n${built}`);
  console.log(`examples/${app}: built into ${join(dest, "dist")}`);
}
