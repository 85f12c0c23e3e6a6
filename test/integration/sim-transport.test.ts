import { PRESETS } from "../../src/mesh/airtime/presets.js";
import { DEFAULT_CHANNEL_OPTIONS, LoraChannel } from "../../src/mesh/sim/channel.js";
import { SimTransport } from "../../src/mesh/sim/transport.js";
import { systemClock } from "../../src/node/clock.js";
import { seededRandom } from "../fixtures/random.js";
import { transportCompliance } from "./transport-compliance.js";

// Driven by the real clock so the shared suite can wait for deliveries; ShortTurbo keeps frames short.
transportCompliance("sim", async () => {
  const channel = new LoraChannel({ ...DEFAULT_CHANNEL_OPTIONS, modulation: PRESETS.SHORT_TURBO, random: seededRandom(1), txQueueLimit: 64 }, systemClock);
  const make = (id: number) => new SimTransport(channel.addRadio(id, { position: { x: id, y: 0 } }), { nodeNumber: id, hopLimit: 1 });
  const a = make(11);
  const b = make(12);
  const stranger = channel.addRadio(99, { position: { x: 0, y: 0 }, rebroadcasts: false });
  let junkId = 1;
  await Promise.all([a.start(), b.start()]);
  return {
    a, b, unstarted: make(13),
    injectJunk: async (bytes) => {
      // Link-level junk on the air: another application's packet, or an empty one on our port.
      stranger.send({ from: 99, id: junkId++, hopLimit: 0, hopStart: 0, portnum: bytes.length === 0 ? 256 : 67, payload: bytes });
    },
    close: async () => {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
});
