import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { generateEstate } from '../../bench/estate/generate.ts';
import { writeEstate } from '../../bench/estate/write.ts';
import { openPortal, type Portal, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}
interface OnScreen {
  width: number;
  height: number;
  zoom: number;
  pan: { x: number; y: number };
  nodes: { id: string; box: Box; label: Box }[];
}

/** What cytoscape has on screen: each node's box and label box, in canvas pixels. */
async function onScreen(page: Page): Promise<OnScreen> {
  await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor();
  // A string, not a function: tsx's __name helper does not exist in the page.
  return page.evaluate(`(() => {
    const cy = document.querySelector('[data-testid=graph-canvas]').cy;
    const pick = (b) => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
    return {
      width: cy.width(),
      height: cy.height(),
      zoom: cy.zoom(),
      pan: cy.pan(),
      nodes: cy.nodes().map((n) => ({
        id: n.id(),
        box: pick(n.renderedBoundingBox({ includeLabels: false, includeOverlays: false })),
        label: pick(n.renderedBoundingBox({ includeNodes: false, includeEdges: false, includeLabels: true })),
      })),
    };
  })()`);
}

function assertAllInside(s: OnScreen) {
  assert.ok(s.nodes.length > 0, 'something is drawn');
  for (const n of s.nodes) {
    const b = n.box;
    assert.ok(
      b.x1 >= -1 && b.y1 >= -1 && b.x2 <= s.width + 1 && b.y2 <= s.height + 1,
      `${n.id} is outside the ${s.width}×${s.height} canvas: ${JSON.stringify(b)}`,
    );
  }
}

function assertNoLabelOverlap(s: OnScreen) {
  const overlap = (a: Box, b: Box) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
  for (let i = 0; i < s.nodes.length; i++) {
    for (let j = i + 1; j < s.nodes.length; j++) {
      assert.ok(
        !overlap(s.nodes[i].label, s.nodes[j].label),
        `${s.nodes[i].id} and ${s.nodes[j].id} labels overlap`,
      );
    }
  }
}

const inside = (s: OnScreen, b: Box) =>
  b.x1 >= -1 && b.y1 >= -1 && b.x2 <= s.width + 1 && b.y2 <= s.height + 1;

/**
 * A view too large to read when fitted opens at a size that can be read, on what it is about (the focus, the
 * team's own services); the notice counts the boxes in view, and its "fit all" shows every box.
 */
async function assertOpensReadable(page: Page, s: OnScreen, core: (id: string) => boolean) {
  assert.ok(s.zoom * 12 >= 9, `labels drawn at ${(s.zoom * 12).toFixed(1)}px`);
  const centre = s.nodes.filter((n) => core(n.id));
  assert.ok(centre.length > 0, 'the core is drawn');
  for (const n of centre) assert.ok(inside(s, n.box), `${n.id} is in view`);
  const shown = s.nodes.filter((n) => inside(s, n.box)).length;
  assert.ok(shown < s.nodes.length, 'part of the drawing is a pan away');
  const notice = page.getByTestId('graph-in-view');
  assert.equal(
    await notice.textContent(),
    `${shown} of ${s.nodes.length} boxes in view, at a size you can read · drag, arrow keys or fit all`,
  );
  await notice.getByRole('button', { name: 'fit all' }).click();
  await notice.waitFor({ state: 'detached' });
  const all = await onScreen(page);
  assertAllInside(all);
  return all;
}

/** The accessible table lists exactly the nodes the canvas draws. */
async function assertTableMatches(page: Page, s: OnScreen) {
  const rows = await page
    .locator('[data-testid=graph-table] tbody tr')
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-node') ?? ''));
  assert.deepEqual([...rows].sort(), s.nodes.map((n) => n.id).sort());
}

describe('graph explorer in Chromium: readable, and what it shows is what it says', { skip: why }, () => {
  let portal: Portal;
  before(async () => {
    portal = await openPortal();
  });
  after(async () => {
    await portal?.close();
  });

  it('the overview is one box per collective, all in view, with no hidden count when nothing is filtered', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph`);
    const s = await onScreen(page);
    assert.equal(s.nodes.length, 9, 'the bank’s nine collectives');
    assert.ok(s.nodes.every((n) => n.id.startsWith('g:group:default/')));
    assertAllInside(s);
    assertNoLabelOverlap(s);
    await assertTableMatches(page, s);
    const status = (await page.getByTestId('graph-status').textContent()) ?? '';
    assert.match(
      status,
      /^9 groups · \d+ services · \d+ calls shown · \d+ weaker links between groups not drawn$/,
    );
    assert.doesNotMatch(status, /hidden/);
    await shot(page, 'graph-overview-350');
    // A filter that hides calls says so.
    await page.goto(`${url}/graph?edges=observed`);
    await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor();
    assert.match((await page.getByTestId('graph-status').textContent()) ?? '', /hidden by filters/);
  });

  it('focus on ledger draws every service it counts: opens readable on ledger, fits all on demand, labels apart, names in the side panel', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph?focus=ledger`);
    const s = await onScreen(page);
    const status = (await page.getByTestId('graph-status').textContent()) ?? '';
    const counted = Number(/^(\d+) services/.exec(status)?.[1]);
    assert.equal(s.nodes.length, counted, `the status counts ${counted}, the canvas draws ${s.nodes.length}`);
    assert.ok(counted > 20, `${counted} services around ledger`);
    assertNoLabelOverlap(s);
    await assertTableMatches(page, s);
    // ~60 boxes fitted would be ~6px text: it opens on ledger, readable, its callers left and callees right.
    assert.equal(await page.getByTestId('graph-canvas').getAttribute('data-framed'), 'core');
    const ledger = s.nodes.find((n) => n.id === 'n:component:default/ledger');
    assert.ok(ledger);
    const left = s.nodes.filter((n) => inside(s, n.box) && n.box.x2 < ledger.box.x1).length;
    const right = s.nodes.filter((n) => inside(s, n.box) && n.box.x1 > ledger.box.x2).length;
    assert.ok(left > 3 && right > 0, `${left} callers and ${right} callees beside ledger`);
    await shot(page, 'graph-focus-ledger-350');
    await assertOpensReadable(page, s, (id) => id === 'n:component:default/ledger');

    // The side panel names callers and callees, with owner and tier.
    await page
      .locator('[data-testid=graph-table] tr[data-node="n:component:default/ledger"] button')
      .first()
      .click();
    await page.waitForURL(/selected=/);
    const callers = page.getByTestId('callers');
    await callers.waitFor();
    const first = (await callers.locator('li').first().textContent()) ?? '';
    assert.match(first, /^[a-z0-9-]+\s*\S.*T[1-4]$/, `a caller with owner and tier: "${first}"`);
    assert.ok((await callers.locator('li').count()) > 10);
    await page.getByTestId('callees').locator('li').first().waitFor();
    await shot(page, 'graph-focus-ledger-selected-350');

    // Two hops: more services, still each drawn and inside the canvas.
    await page.getByLabel('Hops around the focus').selectOption('2');
    await page.waitForURL(/depth=2/);
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid=graph-canvas]')?.getAttribute('data-nodes')) > n,
      counted,
    );
    const two = await onScreen(page);
    const status2 = (await page.getByTestId('graph-status').textContent()) ?? '';
    assert.equal(two.nodes.length, Number(/^(\d+) services/.exec(status2)?.[1]));
    assertNoLabelOverlap(two);
    await assertOpensReadable(page, two, (id) => id === 'n:component:default/ledger');
  });

  it('the focus box suggests services as you type; the keyboard picks one', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph`);
    await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor();
    await page.getByRole('combobox', { name: 'Focus on a service' }).fill('card-a');
    const options = page.getByRole('option');
    await options.first().waitFor();
    assert.match((await options.first().textContent()) ?? '', /^card-api/);
    await page.keyboard.press('Enter');
    await page.waitForURL(/focus=card-api/);
    const s = await onScreen(page);
    assert.ok(s.nodes.some((n) => n.id === 'n:component:default/card-api'));
  });

  it('a team shows its own services, readable in the middle, and their direct neighbours, not a collective box', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph`);
    await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor();
    await page.getByLabel('Team').selectOption({ label: 'Ledger' });
    await page.waitForURL(/team=group%3Adefault%2Fledger/);
    const s = await onScreen(page);
    assert.ok(
      s.nodes.every((n) => n.id.startsWith('n:')),
      'services, not groups',
    );
    assert.ok(s.nodes.some((n) => n.id === 'n:component:default/ledger'));
    await assertTableMatches(page, s);
    const ownIds = new Set(
      await page
        .locator('[data-testid=graph-table] tbody tr')
        .filter({ hasNotText: 'neighbour' })
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-node') ?? '')),
    );
    await shot(page, 'graph-team-ledger-350');
    await assertOpensReadable(page, s, (id) => ownIds.has(id));
    const own = await page
      .locator('[data-testid=graph-table] tbody tr')
      .filter({ hasNotText: 'neighbour' })
      .count();
    const neighbours = await page
      .locator('[data-testid=graph-table] tbody tr')
      .filter({ hasText: 'neighbour' })
      .count();
    assert.ok(own >= 3 && neighbours > 0, `${own} own services, ${neighbours} neighbours`);
    for (const owner of await page
      .locator('[data-testid=graph-table] tbody tr')
      .filter({ hasNotText: 'neighbour' })
      .locator('td:nth-child(2)')
      .allTextContents()) {
      assert.equal(owner, 'Ledger');
    }
  });

  it('zoom buttons, the wheel and the keyboard move the view; Fit brings everything back', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph?focus=balance`);
    const fitted = await onScreen(page);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    const zoomed = await onScreen(page);
    assert.ok(zoomed.zoom > fitted.zoom * 1.2, `${fitted.zoom} → ${zoomed.zoom}`);
    const canvas = page.getByTestId('graph-canvas');
    await canvas.focus();
    await page.keyboard.press('ArrowLeft');
    const panned = await onScreen(page);
    assert.ok(panned.pan.x > zoomed.pan.x + 40, 'ArrowLeft pans');
    await page.keyboard.press('-');
    assert.ok((await onScreen(page)).zoom < panned.zoom);
    const box = await canvas.boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const beforeWheel = (await onScreen(page)).zoom;
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(200);
    assert.ok((await onScreen(page)).zoom > beforeWheel, 'the wheel zooms in');
    await page.getByRole('button', { name: 'Fit', exact: true }).click();
    assertAllInside(await onScreen(page));
  });
});

describe('graph explorer in Chromium at 3,500 services: each view opens readable', { skip: why }, () => {
  let portal: Portal;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'graph-3500-'));
    writeEstate(generateEstate({ services: 3500, seed: 42 }), dir);
    portal = await openPortal({}, [dir]);
  });
  after(async () => {
    await portal?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the overview is a map of the busiest collectives, all in view, labels apart', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph`);
    const s = await onScreen(page);
    assert.equal(s.nodes.length, 24);
    assertAllInside(s);
    assertNoLabelOverlap(s);
    assert.match(
      (await page.getByTestId('graph-status').textContent()) ?? '',
      /^24 busiest of 90 groups · 3500 services/,
    );
    await shot(page, 'graph-overview-3500');
  });

  it('focus on ledger (80 services) opens on ledger with its nearest callers and callees readable', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph?focus=ledger`);
    const s = await onScreen(page);
    assert.equal(
      s.nodes.length,
      Number(/^(\d+) services/.exec((await page.getByTestId('graph-status').textContent()) ?? '')?.[1]),
    );
    assertNoLabelOverlap(s);
    await assertTableMatches(page, s);
    await shot(page, 'graph-focus-ledger-3500');
    const ledger = s.nodes.find((n) => n.id === 'n:component:default/ledger');
    assert.ok(ledger);
    const readableBeside = s.nodes.filter((n) => inside(s, n.box) && n.id !== ledger.id).length;
    assert.ok(readableBeside >= 8, `${readableBeside} services readable beside ledger`);
    await assertOpensReadable(page, s, (id) => id === ledger.id);
  });

  it('the Ledger team (190 services) opens on its own services, every one in view and readable', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph?team=group%3Adefault%2Fledger`);
    const s = await onScreen(page);
    const ownIds = new Set(
      await page
        .locator('[data-testid=graph-table] tbody tr')
        .filter({ hasNotText: 'neighbour' })
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-node') ?? '')),
    );
    assert.ok(
      ownIds.size >= 10 && ownIds.size < s.nodes.length / 4,
      `${ownIds.size} own of ${s.nodes.length}`,
    );
    await shot(page, 'graph-team-ledger-3500');
    await assertOpensReadable(page, s, (id) => ownIds.has(id));
  });
});
