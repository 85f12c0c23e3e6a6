import { describe, expect, it } from "vitest";
import { DevnetUsers, type TransferAnswer, transferAnswer } from "../../src/devnet/users.js";
import { MempoolError } from "../../src/node/mempool.js";

/**
 * `--kill` seed 3 submitted 351 transfers of its 359: during a half-hour finality stall a user's
 * node refused its 17th pending transfer (SENDER_QUOTA, a refusal for now) and the devnet dropped
 * it. The benchmark must put the scenario's load on the nodes: a transfer refused for now is owed.
 */
describe("devnet users", () => {
  it("send again a transfer refused for now, before new ones, until the node takes it", () => {
    const answers: TransferAnswer[] = ["later", "later", "taken", "taken", "taken"];
    const sent: number[] = [];
    const users = new DevnetUsers((u) => {
      sent.push(u);
      return answers.shift() ?? "taken";
    });
    const running = () => true;
    users.turn(running, 4); // refused for now
    expect(users.submitted).toBe(0);
    expect(users.owedCount).toBe(1);
    users.turn(running, 7); // user 4 again (refused again), then user 7's new one
    expect(sent).toEqual([4, 4, 7]);
    expect(users.submitted).toBe(1);
    users.turn(running, 2); // user 4 at last, then user 2
    expect(sent).toEqual([4, 4, 7, 4, 2]);
    expect(users.submitted).toBe(3);
    expect(users.owedCount).toBe(0);
  });

  it("waits for a user's node to run again, and sends what it owes at the drain's turns (no new user)", () => {
    let up = false;
    const users = new DevnetUsers((u) => (u === 1 && !up ? "later" : "taken"));
    users.turn(() => true, 1);
    expect(users.owedCount).toBe(1);
    users.turn((u) => u !== 1, 0); // user 1's node is down: nothing sent for it
    expect(users.owedCount).toBe(1);
    up = true;
    users.turn(() => true, null);
    expect(users.owedCount).toBe(0);
    expect(users.submitted).toBe(2);
  });

  it("reads the node's answers: the pending quota or a full pool is for now, anything else refused for good", () => {
    expect(transferAnswer(new MempoolError("SENDER_QUOTA", "sender already has 16 pending transactions"))).toBe("later");
    expect(transferAnswer(new MempoolError("POOL_FULL", "the pool is full"))).toBe("later");
    expect(transferAnswer(new MempoolError("INVALID", "bad nonce"))).toBe("refused");
    expect(transferAnswer(new Error("node is not running"))).toBe("refused");
    expect(transferAnswer({ status: "accepted" })).toBe("taken");
    expect(transferAnswer({ status: "queued" })).toBe("taken");
    expect(transferAnswer({ status: "included" })).toBe("included");
    const users = new DevnetUsers(() => "refused");
    users.turn(() => true, 0);
    expect(users.refused).toBe(1);
    expect(users.owedCount).toBe(0);
  });
});
