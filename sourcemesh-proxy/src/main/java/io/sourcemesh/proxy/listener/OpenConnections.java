package io.sourcemesh.proxy.listener;

import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;

/**
 * The connections a listener accepted that are still open, for the rare walks over them (a drain, the
 * proxy's shutdown, tests): each connection's {@link ListenerRuntime.Accepted} is its own link, so an
 * open connection costs the set no node of its own (a concurrent set's was 24 bytes, and its table's
 * share ~7 more). Added on accept and removed on close by the connections' event loops, walked by a
 * copy; one lock, held for a few field writes.
 */
final class OpenConnections {
    private ListenerRuntime.Accepted first;
    private int size;

    synchronized void add(ListenerRuntime.Accepted a) {
        a.next = first;
        if (first != null) {
            first.prev = a;
        }
        first = a;
        size++;
    }

    /** Takes {@code a} out; nothing if it is not in (removed already). */
    synchronized void remove(ListenerRuntime.Accepted a) {
        if (a.prev == null && first != a) {
            return;
        }
        if (a.prev != null) {
            a.prev.next = a.next;
        } else {
            first = a.next;
        }
        if (a.next != null) {
            a.next.prev = a.prev;
        }
        a.prev = null;
        a.next = null;
        size--;
    }

    synchronized int size() {
        return size;
    }

    /** The open connections' listener handlers now (a copy: the walk happens outside the lock). */
    synchronized List<ListenerRuntime.Accepted> snapshot() {
        List<ListenerRuntime.Accepted> all = new ArrayList<>(size);
        for (ListenerRuntime.Accepted a = first; a != null; a = a.next) {
            all.add(a);
        }
        return all;
    }

    /** The open connections' channels now. */
    List<Channel> channels() {
        List<ListenerRuntime.Accepted> all = snapshot();
        List<Channel> channels = new ArrayList<>(all.size());
        for (ListenerRuntime.Accepted a : all) {
            channels.add(a.channel);
        }
        return channels;
    }
}
