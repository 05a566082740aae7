// A slider over epochs with a play button: the run's sample grids, and the sweep's shared grid of trials.
import { el } from './dom.ts';

/** Milliseconds per epoch while playing. */
const FRAME_MS = 400;

/** A slider over `epochs` (sorted); `show` is called with the chosen epoch, at once and on every change. */
export function epochSlider(id: string, epochs: number[], show: (epoch: number) => void): HTMLElement {
  const last = epochs.length - 1;
  const slider = el('input', { type: 'range', id: `${id}-slider`, min: '0', max: String(last), step: '1', value: String(last), 'aria-label': 'epoch' });
  const label = el('output', { id: `${id}-epoch` });
  const play = el('button', { type: 'button', id: `${id}-play` }, 'play');
  let timer: number | undefined;
  const update = () => {
    const epoch = epochs[Number(slider.value)];
    label.textContent = epoch === 0 ? 'before training' : `epoch ${epoch}`;
    show(epoch);
  };
  const stop = () => {
    window.clearInterval(timer);
    timer = undefined;
    play.textContent = 'play';
  };
  slider.addEventListener('input', () => {
    stop();
    update();
  });
  play.addEventListener('click', () => {
    if (timer !== undefined) return stop();
    play.textContent = 'pause';
    if (Number(slider.value) === last) slider.value = '0';
    update();
    timer = window.setInterval(() => {
      if (Number(slider.value) >= last) return stop();
      slider.value = String(Number(slider.value) + 1);
      update();
    }, FRAME_MS);
  });
  update();
  return el('div', { class: 'epoch-slider' }, play, slider, label);
}
