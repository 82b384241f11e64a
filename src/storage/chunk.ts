/** D1 binds at most 100 parameters per statement (local dev does not enforce it; tests do). */
export const MAX_BOUND_PARAMETERS = 100;

/** How many rows of `parametersPerRow` fit one statement beside `reserved` other parameters. */
export function rowsPerStatement(parametersPerRow: number, reserved = 0): number {
  return Math.floor((MAX_BOUND_PARAMETERS - reserved) / parametersPerRow);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
