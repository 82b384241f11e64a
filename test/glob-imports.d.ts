/** Vite's `import.meta.glob` (eager, `?raw`): source files' text, for tests that read the source itself. */
interface ImportMeta {
  glob<T = string>(pattern: string | string[], options: { query: "?raw"; import: "default"; eager: true }): Record<string, T>;
}
