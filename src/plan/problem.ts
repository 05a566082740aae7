// What the planner reports: a problem positioned at the config key that can fix it, and the wording helpers.

export interface PlanProblem {
  /** The key to change, e.g. ['data', 'transforms', '2', 'size']. */
  path: string[];
  /** Pointed at instead when `path` holds a default the user did not write. */
  fallback?: string[];
  message: string;
}

export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
