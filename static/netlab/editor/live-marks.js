// Which live marks the canvas changes now (canvas.js markLive). Cytoscape restyles every
// element whose class changes, and every link of a node that changes (all of a hub's), at
// its next frame: the 2000 elements of a 1000-node lab marked at once froze the page for
// half a second as it came up. So they change by slices, a frame's worth at a time.

/**
 * The marks to change in this frame: `items` ([{key, mark}], every element's wanted mark,
 * in order) whose mark is not the one in `marked` (key -> mark applied), while their
 * restyles (`costOf(item)`) fit in `budget`; one item at least, however costly. The items
 * taken are recorded in `marked`. Answers {groups: Map mark -> items, more: whether some
 * wait for another frame}.
 */
export function sliceMarks(items, marked, budget, costOf = () => 1) {
  const groups = new Map();
  let left = budget;
  let more = false;
  for (const item of items) {
    if (marked.get(item.key) === item.mark) continue;
    const cost = costOf(item);
    if (left <= 0 || (cost > left && left < budget)) {
      more = true;
      continue;
    }
    left -= cost;
    marked.set(item.key, item.mark);
    if (!groups.has(item.mark)) groups.set(item.mark, []);
    groups.get(item.mark).push(item);
  }
  return { groups, more };
}
