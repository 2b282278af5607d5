package dev.runcible.toolkit;

import java.util.Arrays;

/**
 * Where the last few reads of a file ended, to tell a read that continues one (a file read front to back) from a
 * read elsewhere. Both the lazy layer's FUSE file and the HDFS fetcher's positional reads ask it. Thread-safe.
 */
public final class ReadEnds {
    private final long[] ends;
    private int next;

    /** Remembers the last {@code capacity} ends; an older one is forgotten. */
    public ReadEnds(int capacity) {
        ends = new long[capacity];
        Arrays.fill(ends, -1);
    }

    /** Whether a read ended at {@code position}; that end is used up, the read that continues it leaves its own. */
    public synchronized boolean continued(long position) {
        for (int i = 0; i < ends.length; i++) {
            if (ends[i] == position) {
                ends[i] = -1;
                return true;
            }
        }
        return false;
    }

    /** Records that a read ended at {@code end}. */
    public synchronized void ended(long end) {
        ends[next] = end;
        next = (next + 1) % ends.length;
    }
}
