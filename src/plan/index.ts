// The plan stage: what an experiment's data and networks will look like, from the config alone.
import type { Experiment } from '../config/experiment.generated.ts';
import { planData, type DataPlan, type OutputShape } from './data-shape.ts';
import { geometryProblems } from './geometry.ts';
import type { PlanProblem } from './problem.ts';

export type { PlanProblem } from './problem.ts';

export interface ExperimentPlan {
  images: OutputShape;
  /** What keeps the networks and the data from fitting together: the networks' first, then the data's. */
  problems: PlanProblem[];
}

export function planExperiment(config: Pick<Experiment, 'data' | 'model'>): ExperimentPlan {
  const { data, model } = config;
  const dataPlan = planData(data);
  return {
    images: dataPlan.images,
    problems: [...geometryProblems(model), ...dataPlan.problems, ...imageSizeProblems(data.source.kind, dataPlan, model.imageSize)],
  };
}

/** The images must arrive at model.imageSize; where the size is known, point at what set it. */
function imageSizeProblems(sourceKind: string, { images: { height, width }, sizeSetAt }: DataPlan, imageSize: number): PlanProblem[] {
  if (height === null || width === null || (height === imageSize && width === imageSize)) return [];
  if (sizeSetAt === -1) {
    return [
      {
        path: ['data', 'source', 'kind'],
        message: `data.source (${sourceKind}) has ${height}x${width} images but model.imageSize is ${imageSize}: add a resize (and crop) to data.transforms that gives [${imageSize}, ${imageSize}]`,
      },
    ];
  }
  return [
    {
      path: ['data', 'transforms', String(sizeSetAt), 'size'],
      message: `data.transforms[${sizeSetAt}] makes ${height}x${width} images but model.imageSize is ${imageSize}: the last resize or crop must give [${imageSize}, ${imageSize}]`,
    },
  ];
}
