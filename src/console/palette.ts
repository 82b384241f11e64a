/**
 * The colours of the setup pages and the console (routes/page-style.ts writes them into the CSS).
 * test/unit/console-contrast.test.ts checks these very values against WCAG 2.1 AA: text 4.5:1 on
 * its background (1.4.3), field borders and the focus ring 3:1 (1.4.11).
 */
export const PALETTE = {
  ink: "#1f2328",
  muted: "#57606a",
  page: "#f6f8fa",
  surface: "#ffffff",
  /** Decorative card edges only: not a control's boundary, so 1.4.11 does not apply. */
  line: "#d0d7de",
  /** Input, textarea, fieldset and checkbox borders: identify a control, so 3:1 on white. */
  field: "#6e7781",
  bad: "#b42318",
  alertInk: "#7a271a",
  alertBg: "#fef3f2",
  noticeBg: "#fffbea",
  noticeLine: "#9a6700",
  good: "#1a7f37",
  code: "#eff1f3",
} as const;
