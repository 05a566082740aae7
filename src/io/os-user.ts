import { userInfo } from 'node:os';

/** The OS user name, as MLflow's Python client records it; undefined where the system has none. */
export function osUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return process.env.USER || process.env.USERNAME || undefined;
  }
}
