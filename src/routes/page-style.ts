/**
 * The stylesheet of the setup pages and the console, one for both. Every colour comes from
 * PALETTE (src/console/palette.ts) or the validated accent.
 */
import { PALETTE } from "../console/palette";

/** The accent is validated and darkened to 4.5:1 on white (console/branding.ts); the focus ring uses it. */
export function pageStyle(accent: string): string {
  const p = PALETTE;
  return `
:root { color-scheme: light; --ink: ${p.ink}; --muted: ${p.muted}; --line: ${p.line}; --field: ${p.field}; --accent: ${accent}; --bad: ${p.bad}; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: ${p.page}; }
a.skip { position: absolute; left: -999px; top: .5rem; background: ${p.surface}; color: var(--accent); padding: .5rem 1rem; border: 2px solid var(--accent); border-radius: 6px; }
a.skip:focus { left: .5rem; }
header.brand { display: flex; align-items: center; gap: .75rem; max-width: 64rem; margin: 1rem auto 0; padding: 0 1rem; }
header.brand img { max-height: 2rem; max-width: 8rem; }
header.brand .app { font-weight: 600; }
nav.console { max-width: 64rem; margin: .5rem auto 0; padding: 0 1rem; }
nav.console ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav.console a { color: var(--accent); font-weight: 600; }
nav.console a[aria-current=page] { color: var(--ink); text-decoration: none; border-bottom: 3px solid var(--accent); }
main { max-width: 64rem; margin: 1rem auto; padding: 1.5rem; background: ${p.surface}; border: 1px solid var(--line); border-radius: 8px; overflow-wrap: anywhere; }
main.narrow { max-width: 48rem; }
footer { max-width: 64rem; margin: 0 auto 2rem; padding: 0 1rem; color: var(--muted); font-size: .9rem; }
a { color: var(--accent); }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
p.lead { color: var(--muted); margin-top: 0; }
fieldset { border: 1px solid var(--field); border-radius: 6px; margin: 0 0 1.25rem; padding: .75rem 1rem; min-width: 0; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: block; margin: .25rem 0; }
.field { margin: 0 0 1.25rem; }
.field > label { display: block; font-weight: 600; margin-bottom: .25rem; }
.hint { color: var(--muted); font-size: .9rem; margin: .25rem 0 0; }
.error { color: var(--bad); font-size: .9rem; margin: .25rem 0 0; }
input[type=text], input[type=search], textarea, select { width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--field); border-radius: 6px; background: ${p.surface}; color: var(--ink); }
input[type=checkbox], input[type=radio] { accent-color: var(--accent); width: 1.1rem; height: 1.1rem; vertical-align: -.15rem; }
input[aria-invalid=true], textarea[aria-invalid=true] { border-color: var(--bad); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.secret { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; }
button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary, button.copy { background: ${p.surface}; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.copy { padding: .45rem .8rem; white-space: nowrap; flex: none; }
.copyable { display: flex; gap: .5rem; }
.copyable input { min-width: 0; }
.alert { border: 1px solid var(--bad); background: ${p.alertBg}; color: ${p.alertInk}; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1.25rem; }
.alert ul { margin: .25rem 0 0; padding-left: 1.25rem; }
.notice { border: 1px solid ${p.noticeLine}; background: ${p.noticeBg}; border-radius: 6px; padding: .75rem 1rem; margin: 1.25rem 0; }
.notice p { margin: 0 0 .5rem; }
.ok { color: ${p.good}; font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
ol li { margin: .35rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: ${p.code}; padding: .1em .3em; border-radius: 4px; }
dl.facts { display: grid; grid-template-columns: minmax(8rem, max-content) 1fr; gap: .35rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
form.inline { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 0 0 1rem; }
form.inline .field { margin: 0; flex: 1 1 12rem; }
.pager { display: flex; gap: 1rem; margin-top: 1rem; }
@media (max-width: 40rem) {
  main { margin: .5rem; padding: 1rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .5rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
  table.stack td { display: block; border: 0; padding: .15rem 0; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
}
`;
}
