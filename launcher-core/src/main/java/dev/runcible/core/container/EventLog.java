package dev.runcible.core.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.image.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's container events, one JSON line each, appended to {@code RUN/events}: {@code created} and
 * {@code started} by the launcher, {@code exited} with the exit code by the container's supervisor the moment runc
 * returns (so an exit is recorded whoever waits, and when nobody does), {@code removed} by whoever removes it.
 * Each line is one {@code write} to a file opened for appending, so lines of concurrent writers never mix.
 *
 * <p>Followers read the file from where they start and are woken by inotify on the run directory (Java's watch
 * service): one watcher for any number of containers, and a follower that returns with {@code since} reads the
 * events it missed from the file.
 */
public final class EventLog {
    private static final Logger LOG = LoggerFactory.getLogger(EventLog.class);
    public static final String FILE = "events";
    /** Beyond this size {@code gc} moves the log to {@code events.1} (replacing the one before) and starts anew. */
    public static final long ROTATE_BYTES = 16L << 20;
    private static final int MAX_LINE = 64 * 1024;

    /** One container event: created, started, exited (with its code) or removed. */
    public record Event(Instant time, String type, String id, String name, int owner, OptionalInt exitCode) {
        public String json() {
            ObjectNode node = Json.MAPPER.createObjectNode();
            node.put("time", time.toString());
            node.put("type", type);
            node.put("id", id);
            node.put("name", name);
            node.put("owner", owner);
            exitCode.ifPresent(code -> node.put("exitCode", code));
            return node.toString();
        }

        /** As {@code runcible events} prints it without {@code --json}. */
        public String text() {
            return time + " " + type + " " + id + " (name=" + name
                    + (exitCode.isPresent() ? ", exitCode=" + exitCode.getAsInt() : "") + ")";
        }

        static Event parse(String line) {
            try {
                JsonNode node = Json.MAPPER.readTree(line);
                return new Event(Instant.parse(node.path("time").asText()), node.path("type").asText(),
                        node.path("id").asText(), node.path("name").asText(), node.path("owner").asInt(),
                        node.hasNonNull("exitCode") ? OptionalInt.of(node.get("exitCode").asInt())
                                : OptionalInt.empty());
            } catch (IOException | RuntimeException e) {
                return null; // a torn or foreign line is skipped
            }
        }
    }

    private final Path file;

    public EventLog(Path file) {
        this.file = file;
    }

    public static EventLog of(RunDirectory runDir) {
        return new EventLog(runDir.root().resolve(FILE));
    }

    public Path file() {
        return file;
    }

    /** Appends an event now; a failure to record it is logged, never fatal to what it records. */
    void append(String type, ContainerRecord record, OptionalInt exitCode) {
        Event event = new Event(Instant.now(), type, record.id(), record.name(), record.owner(), exitCode);
        byte[] line = (event.json() + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND),
                PosixFilePermissions.asFileAttribute(RunDirectory.PRIVATE_FILE))) {
            channel.write(ByteBuffer.wrap(line));
        } catch (IOException e) {
            LOG.warn("Cannot record the {} event of {} in {}: {}", type, record.shortId(), file, e.getMessage());
        }
    }

    /** The generation before the current one. */
    Path previous() {
        return file.resolveSibling(file.getFileName() + ".1");
    }

    /**
     * Starts a new log once this one exceeds {@code maxBytes}; returns whether it did. A follower finishes the old
     * one under its new name before it goes on with the new one; {@code --since} reads both.
     */
    public boolean rotate(long maxBytes) throws IOException {
        if (!Files.exists(file) || Files.size(file) <= maxBytes) {
            return false;
        }
        Files.move(file, previous(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    /** Where a follower starts reading: the file's current end (events from now on), or its start. */
    public long end() {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Passes each event from byte {@code position} on (with {@code since}: only those after it) that {@code filter}
     * accepts to {@code sink}, then waits for more, until {@code stop} says so (asked at least every 250 ms).
     */
    public void follow(long position, Optional<Instant> since, Predicate<Event> filter, Consumer<Event> sink,
            BooleanSupplier stop) throws IOException {
        try (WatchService watcher = FileSystems.getDefault().newWatchService()) {
            file.getParent().register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY);
            long offset = position;
            Object inode = null;
            ByteArrayOutputStream partial = new ByteArrayOutputStream();
            if (position == 0 && since.isPresent()) {
                try (FileChannel old = FileChannel.open(previous(), StandardOpenOption.READ)) {
                    read(old, 0, partial, since, filter, sink);
                } catch (NoSuchFileException e) {
                    // never rotated
                }
                partial.reset();
            }
            while (!stop.getAsBoolean()) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    Object now = Files.getAttribute(file, "unix:ino");
                    if (inode != null && !inode.equals(now) || channel.size() < offset) {
                        finishRotated(inode, offset, partial, since, filter, sink);
                        offset = 0; // a new generation: its events are all new
                        partial.reset();
                    }
                    inode = now;
                    offset = read(channel, offset, partial, since, filter, sink);
                } catch (NoSuchFileException e) {
                    // not written yet, or rotated and not yet begun again: the next round sees which
                }
                try {
                    var key = watcher.poll(250, TimeUnit.MILLISECONDS);
                    if (key != null) {
                        key.pollEvents();
                        key.reset();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (ClosedWatchServiceException e) {
                    return;
                }
            }
        }
    }

    /** Reads what was appended to the generation being followed before it was rotated away, if it was. */
    private void finishRotated(Object inode, long offset, ByteArrayOutputStream partial, Optional<Instant> since,
            Predicate<Event> filter, Consumer<Event> sink) throws IOException {
        try (FileChannel old = FileChannel.open(previous(), StandardOpenOption.READ)) {
            if (inode != null && inode.equals(Files.getAttribute(previous(), "unix:ino"))) {
                read(old, offset, partial, since, filter, sink);
            }
        } catch (NoSuchFileException e) {
            // rotated twice meanwhile: what is gone is gone
        }
    }

    private static long read(FileChannel channel, long offset, ByteArrayOutputStream partial, Optional<Instant> since,
            Predicate<Event> filter, Consumer<Event> sink) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        long position = offset;
        for (int n; (n = channel.read(buffer.clear(), position)) > 0; ) {
            position += n;
            byte[] bytes = buffer.array();
            for (int i = 0; i < n; i++) {
                if (bytes[i] != '\n') {
                    if (partial.size() < MAX_LINE) {
                        partial.write(bytes[i]);
                    }
                    continue;
                }
                Event event = Event.parse(partial.toString(StandardCharsets.UTF_8));
                partial.reset();
                if (event != null && (since.isEmpty() || event.time().isAfter(since.get())) && filter.test(event)) {
                    sink.accept(event);
                }
            }
        }
        return position;
    }
}
