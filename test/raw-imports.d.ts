/** Vite's `?raw` import: a file's text (scripts/*.sql in tests). */
declare module "*.sql?raw" {
  const text: string;
  export default text;
}
