// flame_browser.cjs — drive a flame graph made by `fptrace report --format svg`
// in Debian's headless Chromium (playwright-core, no downloaded browser) the way
// a user does: load it, read frame names, click to zoom and reset, search, the
// icicle view, the "defects only" highlight.  Prints one "FAIL: ..." line per
// failed check and exits 1 if any; writes a screenshot of each view.
//   node flame_browser.cjs FLAME.svg OUTDIR
// The page's own errors (an exception in its script) fail the run.
const { chromium } = require('playwright-core');

const [svgPath, outDir] = process.argv.slice(2);
let fails = 0;
function check(ok, what) {
  if (!ok) { console.log('FAIL: ' + what); fails++; }
}

// The flame graph's frames as the page shows them: name, tooltip, box, class.
async function frames(page) {
  return page.$$eval('g.f', gs => gs.map(g => {
    const r = g.querySelector('rect');
    return {
      label: g.querySelector('text').textContent,
      title: g.querySelector('title').textContent,
      x: +r.getAttribute('x'), y: +r.getAttribute('y'), w: +r.getAttribute('width'),
      fill: r.getAttribute('fill'), shown: getComputedStyle(g).display !== 'none',
      opacity: +getComputedStyle(g).opacity, cls: g.getAttribute('class'),
    };
  }));
}
const named = (fs, name) => fs.filter(f => f.title.startsWith(name + ' ('));

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // The machine's network is closed: no background connections.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
  page.setDefaultTimeout(10000);   // a missing button fails fast
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.goto('file://' + svgPath);
  // An SVG document has no page to scroll: size the window to the graph
  // (fullPage screenshots of SVG documents never finish in Chromium).
  const height = await page.$eval('svg', s => +s.getAttribute('height'));
  await page.setViewportSize({ width: 1200, height: Math.ceil(height) });

  let fs = await frames(page);
  check(fs.length > 3, `the page shows ${fs.length} frames`);
  const main = named(fs, 'main')[0], leaf = named(fs, 'leafwork');
  check(main && main.label === 'main', 'a frame is labelled main');
  check(leaf.length > 0, 'a frame is named leafwork');
  const defects = fs.filter(f => f.cls === 'f d');
  check(defects.length > 0 && defects.every(f => /fp-skips/.test(f.title)),
        'the fp-skips frame is painted as a defect: ' + defects.map(f => f.title).join(' | '));
  check(defects.every(f => f.w >= 4), 'every defect is at least 4 px wide');
  check(fs.every(f => !/leaf-window/.test(f.title)), 'a leaf-window frame is painted');
  const nmarks = await page.$$eval('g.mk', ms => ms.length);
  check(nmarks === defects.length, `${nmarks} markers for ${defects.length} defect frames`);
  await page.screenshot({ path: outDir + '/flame.png' });

  // Zoom: click main; it spans the graph, its callers' siblings are hidden.
  await page.click('g.f:has(title:text-matches("^main \\\\("))');
  fs = await frames(page);
  const zm = named(fs, 'main')[0];
  check(Math.abs(zm.x - 10) < 0.5 && Math.abs(zm.w - 1180) < 0.5,
        `zoomed main spans the graph (x ${zm.x}, width ${zm.w})`);
  check(await page.isVisible('#reset'), 'Reset zoom shows after a zoom');
  await page.click('#reset');
  fs = await frames(page);
  check(Math.abs(named(fs, 'main')[0].w - main.w) < 0.01, 'reset restores the width of main');
  check(!(await page.isVisible('#reset')), 'Reset zoom hides after the reset');

  // A marker leads to its defect: clicking it zooms there.
  await page.click('g.mk path');
  fs = await frames(page);
  const zd = fs.filter(f => f.cls === 'f d' && f.shown);
  check(zd.length > 0 && zd.every(f => f.w > 1000), 'a marker click zooms to its defect');
  await page.click('#reset');

  // Search: the prompt is answered, matches turn the search colour.
  page.once('dialog', d => d.accept('^leafwork$'));
  await page.click('#search');
  fs = await frames(page);
  check(named(fs, 'leafwork').every(f => f.fill === 'rgb(64,200,255)'), 'leafwork is highlighted');
  check(named(fs, 'main').every(f => f.fill !== 'rgb(64,200,255)'), 'main is not highlighted');
  const matched = await page.textContent('#matched');
  check(/^Matched: [0-9.]+%$/.test(matched) && parseFloat(matched.slice(9)) > 0,
        `the match share is shown: '${matched}'`);

  // Icicle: the root moves to the top, callees below their callers.
  const root = fs.find(f => f.title.startsWith('all '));
  await page.click('#invert');
  fs = await frames(page);
  const iroot = fs.find(f => f.title.startsWith('all '));
  check(iroot.y < root.y && fs.every(f => f.y >= iroot.y), 'icicle view puts the root on top');
  check(named(fs, 'leafwork')[0].y > named(fs, 'main')[0].y, 'icicle view: leafwork below main');
  await page.screenshot({ path: outDir + '/icicle.png' });
  await page.click('#invert');

  // Defects only: frames off every defect's path fade, the defect stays lit.
  await page.click('#defects');
  fs = await frames(page);
  check(fs.filter(f => f.cls === 'f d').every(f => f.opacity === 1), 'defects stay lit');
  check(fs.some(f => f.cls === 'f' && f.opacity < 0.5), 'frames without a defect fade');
  await page.screenshot({ path: outDir + '/defects.png' });

  check(errors.length === 0, 'page errors: ' + errors.join('; '));
  await browser.close();
  process.exit(fails ? 1 : 0);
})().catch(e => { console.log('FAIL: ' + e.message); process.exit(1); });
