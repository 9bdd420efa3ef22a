// Exercise 6: in a second-price auction the winner pays the second-highest bid. The gradient of
// that price with respect to every bid, computed by adc through the comparisons.
import { grad } from "adc";
import { cell } from "../cells.js";

/** The price the winner pays: the second-highest bid. */
export function secondPrice(bids: Float64Array): number {
  let first = -Infinity;
  let second = -Infinity;
  for (const b of bids) {
    if (b > first) {
      second = first;
      first = b;
    } else if (b > second) {
      second = b;
    }
  }
  return second;
}

const bids = new Float64Array([3.2, 5.0, 4.1, 1.7]);
const dPrice = grad(secondPrice)(bids);
cell("ex6.1", "bids = [3.2, 5.0, 4.1, 1.7]; secondPrice(bids)", secondPrice(bids), "4.1", 4.1);
cell("ex6.2", "grad(secondPrice)(bids)", Array.from(dPrice), "[0, 0, 1, 0]", [0, 0, 1, 0]);
console.log(
  "\nThe price moves one for one with the runner-up's bid and not at all with the winner's own bid:\n" +
    "while the winner keeps winning, bidding higher or lower does not change what they pay. That is\n" +
    "why, in a second-price auction, bidding one's true value is a dominant strategy.",
);
