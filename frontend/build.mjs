// Build the PWA into dist/: the app bundle, the service worker (with the precache list and a
// version = hash of everything it precaches), the shell files and the icons.
//   node build.mjs          build once
//   node build.mjs --watch  rebuild on change (development)

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, copyFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawIcon } from './tools/icons.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');

const ICONS = [
  ['icons/icon-192.png', 192, false],
  ['icons/icon-512.png', 512, false],
  ['icons/maskable-192.png', 192, true],
  ['icons/maskable-512.png', 512, true],
];

/** How the app and its module workers are bundled (esbuild options they share). */
const BUNDLE = {
  metafile: true,
  bundle: true,
  format: 'esm',
  minify: !process.env.TT_NO_MINIFY,
  sourcemap: true,
  target: ['es2022'],
  legalComments: 'linked',
  logLevel: 'warning',
};

async function main() {
  const started = Date.now();
  await rm(dist, { recursive: true, force: true });
  await mkdir(join(dist, 'icons'), { recursive: true });

  // Module workers with hashed names; the app learns each name from the defines below.
  //   bulk: the backfill's worker (src/replica/bulk-worker.js: bulk pages fetched, decoded and
  //         put into IndexedDB off the main thread);
  //   send: the send worker (src/replica/send-worker.js: a send's outbox write and its request,
  //         off the main thread, so neither waits for the page's next frame).
  const bulkWorker = await buildWorker('src/replica/bulk-worker.js', 'bulk');
  const sendWorker = await buildWorker('src/replica/send-worker.js', 'send');

  // The bundle and the stylesheet carry content hashes in their names, so a new index.html
  // can never be paired with an old script from the cache.
  const app = await build({
    entryPoints: [join(root, 'src/main.js')],
    outdir: dist,
    entryNames: 'app-[hash]',
    ...BUNDLE,
    // TT_BULK_WORKER=0 builds the app without it (pages applied on the main thread): for A/B runs.
    // TT_SEND_WORKER=0 builds it without the send worker (a send written and sent from the page).
    define: {
      'globalThis.TEAMTALK_BULK_WORKER': process.env.TT_BULK_WORKER === '0' ? 'null' : JSON.stringify(bulkWorker),
      'globalThis.TEAMTALK_SEND_WORKER': process.env.TT_SEND_WORKER === '0' ? 'null' : JSON.stringify(sendWorker),
    },
  });

  // The hashing worker (files/hash-worker.js) at a stable URL: the page starts it by name.
  await build({
    entryPoints: [join(root, 'src/files/hash-worker.js')],
    outfile: join(dist, 'hash-worker.js'),
    bundle: true,
    format: 'esm',
    minify: !process.env.TT_NO_MINIFY,
    target: ['es2022'],
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const script = '/' + Object.keys(app.metafile.outputs).find((f) => /app-[^/]*\.js$/.test(f)).split('/').pop();
  // The stylesheets in styles/ (index.css imports them in cascade order), as one file.
  const css = await build({
    entryPoints: [join(root, 'styles/index.css')],
    outdir: dist,
    entryNames: 'style-[hash]',
    metafile: true,
    bundle: true,
    minify: !process.env.TT_NO_MINIFY,
    sourcemap: true,
    logLevel: 'warning',
    plugins: [await breakpoints()],
  });
  const stylesheet = '/' + Object.keys(css.metafile.outputs).find((f) => /style-[^/]*\.css$/.test(f)).split('/').pop();
  const index = (await readFile(join(root, 'index.html'), 'utf8'))
    .replace('/app.js', script)
    .replace('/style.css', stylesheet);
  await writeFile(join(dist, 'index.html'), index);
  await copyFile(join(root, 'manifest.webmanifest'), join(dist, 'manifest.webmanifest'));
  for (const [path, size, maskable] of ICONS) await writeFile(join(dist, path), drawIcon(size, { maskable }));

  // Everything the shell needs offline. The version is a hash of their bytes, so any change
  // to any of them installs a new worker (and a new cache); nothing else does.
  const precache = [
    '/', script, stylesheet, bulkWorker, sendWorker, '/hash-worker.js', '/manifest.webmanifest', ...ICONS.map(([p]) => `/${p}`),
  ];
  const hash = createHash('sha256');
  for (const url of precache) {
    const file = url === '/' ? 'index.html' : url.slice(1);
    hash.update(url).update(await readFile(join(dist, file)));
  }
  const version = hash.digest('hex').slice(0, 16);

  await build({
    entryPoints: [join(root, 'sw/sw.js')],
    outfile: join(dist, 'sw.js'),
    bundle: true,
    format: 'iife',
    minify: !process.env.TT_NO_MINIFY,
    sourcemap: true,
    target: ['es2022'],
    legalComments: 'linked',
    logLevel: 'warning',
    define: {
      __VERSION__: JSON.stringify(version),
      __PRECACHE__: JSON.stringify(precache),
    },
  });

  const files = await readdir(dist, { recursive: true });
  console.log(`built ${files.length} files into dist/ (version ${version}) in ${Date.now() - started} ms`);
}

/**
 * The one breakpoint scale: `--bp-<name>: <width>` in styles/tokens.css. CSS cannot use a custom
 * property in a media query, so stylesheets write the custom-media form `@media (--<name>)`
 * (Media Queries 5, not yet in browsers) and this plugin turns it into `(width < <width>)`.
 */
async function breakpoints() {
  const tokens = await readFile(join(root, 'styles/tokens.css'), 'utf8');
  const sizes = new Map([...tokens.matchAll(/--bp-([a-z]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
  return {
    name: 'breakpoints',
    setup(builder) {
      builder.onLoad({ filter: /\.css$/ }, async ({ path }) => {
        const text = await readFile(path, 'utf8');
        const contents = text.replace(/@media[^{]*\{/g, (prelude) =>
          prelude.replace(/\(--([a-z]+)\)/g, (_, name) => {
            if (!sizes.has(name)) throw new Error(`${path}: @media (--${name}) has no --bp-${name} in styles/tokens.css`);
            return `(width < ${sizes.get(name)})`;
          }),
        );
        return { contents, loader: 'css' };
      });
    },
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/** Bundle one module worker as `<prefix>-<hash>.js` in dist; its URL path. */
async function buildWorker(entry, prefix) {
  const made = await build({
    entryPoints: [join(root, entry)],
    outdir: dist,
    entryNames: `${prefix}-[hash]`,
    ...BUNDLE,
  });
  const named = new RegExp(`${prefix}-[^/]*\\.js$`);
  return '/' + Object.keys(made.metafile.outputs).find((f) => named.test(f)).split('/').pop();
}
