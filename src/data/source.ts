// What a source holds lives with the planner now; eval/evaluate.ts and cli/eval.ts still import it from here.
export { isLabeled, sourceClasses } from '../plan/source.ts';
