/** A binary min-heap ordered by `due`, then by insertion. */
export class DueHeap<T extends { readonly due: number }> {
  #items: T[] = [];

  /** How many items it holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The earliest item, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].due <= item.due) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right].due < items[left].due ? right : left;
      if (items[child].due >= last.due) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
    return top;
  }
}
