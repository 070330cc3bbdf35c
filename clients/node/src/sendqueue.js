// The client's send queue: frames that did not fit in the socket's buffer wait here, oldest first,
// bounded in bytes. A call that ends while its frame still waits takes the frame back out, so a broker
// that stopped reading never receives stale requests once it reads again.

import { debuglog } from 'node:util';
import { TargetBusyError } from './errors.js';

const debug = debuglog('switchboard');
const COMPACT_AFTER = 1024; // sent entries at the head before the array is compacted

/** Not thread-safe (nothing in Node is): used by one Client on its event loop. */
export class SendQueue {
  /** @param {number} maxBytes the bound: frames waiting together never exceed it. */
  constructor(maxBytes) {
    this.maxBytes = maxBytes;
    /** Bytes of the frames waiting. */
    this.bytes = 0;
    this._items = []; // { frame: Buffer | null, owner }; frame null once sent or taken back
    this._head = 0;
  }

  /**
   * Appends a frame. `owner` (a call, with a `_queued` field) can take it back with remove().
   * Throws TargetBusyError when the frame does not fit.
   */
  add(frame, owner) {
    if (this.bytes + frame.length > this.maxBytes) {
      debug('send queue full: %d bytes wait, maxQueuedBytes=%d, a frame of %d bytes refused', this.bytes, this.maxBytes, frame.length);
      throw new TargetBusyError(
        `the client's send queue is full: ${this.bytes} bytes wait for the broker to read (maxQueuedBytes=${this.maxBytes}), a frame of ${frame.length} bytes does not fit`,
      );
    }
    const item = { frame, owner };
    this._items.push(item);
    this.bytes += frame.length;
    if (owner) owner._queued = item;
  }

  /** A call ended: drops its frame if it still waits. True when the frame was never written. */
  remove(owner) {
    const item = owner._queued;
    if (!item) return false;
    owner._queued = null;
    if (!item.frame) return false;
    this.bytes -= item.frame.length;
    item.frame = null;
    if (debug.enabled) debug('a call ended before its frame was written: dropped unsent, %d bytes still queued', this.bytes);
    return true;
  }

  /** Moves waiting frames into the socket, in order, until its write() asks to wait. */
  flushInto(socket) {
    const items = this._items;
    if (this._head === items.length) return;
    socket.cork();
    while (this._head < items.length) {
      const item = items[this._head++];
      const frame = item.frame;
      if (!frame) continue;
      item.frame = null;
      if (item.owner) item.owner._queued = null;
      this.bytes -= frame.length;
      if (!socket.write(frame)) break;
    }
    socket.uncork();
    if (this._head === items.length) {
      items.length = 0;
      this._head = 0;
    } else if (this._head > COMPACT_AFTER) {
      items.splice(0, this._head);
      this._head = 0;
    }
  }

  /** The connection is gone: every waiting frame is dropped. */
  clear() {
    for (let i = this._head; i < this._items.length; i++) {
      const item = this._items[i];
      item.frame = null;
      if (item.owner) item.owner._queued = null;
    }
    this._items = [];
    this._head = 0;
    this.bytes = 0;
  }
}
