import { ManualClock } from "../core/clock.js";
import { seededRandom } from "../core/random.js";
import { PRESETS } from "../mesh/airtime/presets.js";
import { encodeFrame, MessageType } from "../mesh/frame.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../mesh/sim/channel.js";
import type { Measurement } from "./harness.js";


/** Virtual hours simulated per wall-clock second: a 10-radio LongFast mesh, a packet every ~2 minutes. */
export function simulatorBenchmark(): Measurement {
  const clock = new ManualClock(0);
  const random = seededRandom(1);
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.LONG_FAST, random }, clock);
  const radios = Array.from({ length: 10 }, (_, i) => channel.addRadio(i + 1, { position: { x: (i % 5) * 1500, y: Math.floor(i / 5) * 1500 } }));
  let id = 1;
  const tick = () => {
    const r = radios[Math.floor(random() * radios.length)]!;
    r.send({ from: r.id, id: id++, hopLimit: 3, hopStart: 3, portnum: 256, payload: encodeFrame({ type: MessageType.Transaction, messageId: 1, fragment: null, payload: new Uint8Array(88) }) });
    clock.setTimeout(tick, 60_000 + random() * 120_000);
  };
  tick();
  const hours = 2_000;
  const start = performance.now();
  clock.advance(hours * 3_600_000);
  const seconds = (performance.now() - start) / 1000;
  return { name: "LoRa simulator, 10 radios, LongFast, a packet every ~2 min", value: hours / seconds, unit: "virtual hours/s", note: `${hours} virtual hours in ${seconds.toFixed(1)} s` };
}
