package dev.runcible.hdfs;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The content of an HDFS store's tag lock: {@code runcible-tag-lease 1}, the holder ({@code host:pid:uuid}) and the
 * lease in milliseconds. The lease runs from the file's modification time, which the NameNode sets.
 */
record TagLease(String holder, long leaseMillis, long modified) {
    private static final String MAGIC = "runcible-tag-lease 1";
    private static final int MAX_BYTES = 1024;

    /** This process's holder name, unique per call: threads of one process exclude each other too. */
    static String newHolder() {
        return ManagementFactory.getRuntimeMXBean().getName().replace('@', ':') + ":" + UUID.randomUUID();
    }

    static byte[] write(String holder, Duration lease) {
        return (MAGIC + "\nholder " + holder + "\nlease-ms " + lease.toMillis() + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The lease in the file, or empty when there is none or it names no lease (then it is no lock of ours). */
    static Optional<TagLease> read(FileSystem fs, Path lock) throws IOException {
        try {
            long modified = fs.getFileStatus(lock).getModificationTime();
            String text;
            try (InputStream in = fs.open(lock)) {
                text = new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8);
            }
            String[] lines = text.split("\n");
            if (lines.length < 3 || !lines[0].equals(MAGIC) || !lines[1].startsWith("holder ")
                    || !lines[2].startsWith("lease-ms ")) {
                return Optional.empty();
            }
            return Optional.of(new TagLease(lines[1].substring("holder ".length()),
                    Long.parseLong(lines[2].substring("lease-ms ".length()).strip()), modified));
        } catch (FileNotFoundException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Deletes the lock if it is the one read ({@code seen}); a lock taken meanwhile stays. */
    static void breakIfSame(FileSystem fs, Path lock, Optional<TagLease> seen) throws IOException {
        if (!fs.exists(lock)) {
            return;
        }
        Optional<TagLease> now = read(fs, lock);
        if (now.equals(seen)) {
            fs.delete(lock, false);
        }
    }

    boolean expired() {
        return System.currentTimeMillis() > modified + leaseMillis;
    }

    Instant until() {
        return Instant.ofEpochMilli(modified + leaseMillis);
    }
}
