package dev.runcible.core.cli;

import dev.runcible.core.config.Sizes;
import dev.runcible.core.plugin.TransferListener;
import java.io.PrintStream;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of pulls and conversions. On a terminal one status line is redrawn (at most five times a second);
 * otherwise, as in CI logs, a plain line when each blob starts and ends.
 */
final class Progress implements TransferListener {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final Map<URI, AtomicLong> active = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();
    private final long start = System.nanoTime();
    private volatile long lastDraw;
    private volatile int finished;

    Progress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    static Progress forConsole(Main main) {
        return new Progress(main.err(), main.invocation().terminal());
    }

    @Override
    public void started(URI location) {
        active.put(location, new AtomicLong());
        if (!terminal) {
            out.println("Fetching " + name(location));
        }
    }

    @Override
    public void transferred(URI location, long bytes) {
        AtomicLong counter = active.get(location);
        if (counter != null) {
            counter.addAndGet(bytes);
        }
        total.addAndGet(bytes);
        long now = System.nanoTime();
        if (terminal && now - lastDraw > REDRAW_NANOS) {
            lastDraw = now;
            draw();
        }
    }

    @Override
    public synchronized void finished(URI location, long bytes, boolean complete) {
        active.remove(location);
        finished++;
        double seconds = (System.nanoTime() - start) / 1e9;
        String line = (complete ? "Fetched " : "Stopped ") + name(location) + " (" + Sizes.format(bytes) + ", "
                + String.format(java.util.Locale.ROOT, "%.1f s", seconds) + ")";
        if (terminal) {
            out.print("\r\033[K" + line + "\n");
            draw();
        } else {
            out.println(line);
        }
    }

    private synchronized void draw() {
        double seconds = Math.max((System.nanoTime() - start) / 1e9, 0.001);
        out.print("\r\033[K" + active.size() + " downloading, " + finished + " done: "
                + Sizes.format(total.get()) + " at " + Sizes.format((long) (total.get() / seconds)) + "/s");
        out.flush();
    }

    /** Ends the status line. */
    void done() {
        if (terminal) {
            out.print("\r\033[K");
            out.flush();
        }
    }

    private static String name(URI location) {
        String path = location.getPath() == null ? location.toString() : location.getPath();
        int at = path.lastIndexOf("sha256:");
        if (at >= 0) {
            return path.substring(at, Math.min(path.length(), at + 7 + 12));
        }
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
