package dev.runcible.core.mount;

import dev.runcible.api.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;

/**
 * Which cached layer files were hashed and found right, and as what file: {@code RUN/layers/HEX.verified} holds
 * the digest and the file's identity at that time (device, inode, size, modification and status-change times).
 * A file whose identity is unchanged is the file that was hashed: the cache and the run directory are root's
 * alone, and no write, truncation, permission change or replacement leaves the status-change time as it was
 * (only changing the clock could). So a layer is hashed when it enters the cache or changes, not at every mount.
 */
final class VerifiedLayers {
    private final Path directory;

    VerifiedLayers(Path directory) {
        this.directory = directory;
    }

    /**
     * Whether {@code file}, whose identity now is {@code identity} ({@link #identity}), is the file last found to
     * hash to {@code digest}. A missing or unreadable record is no match.
     */
    boolean unchanged(Path file, Digest digest, Optional<String> identity) {
        if (identity.isEmpty()) {
            return false;
        }
        try {
            return Files.readString(record(digest), StandardCharsets.US_ASCII)
                    .equals(line(digest, file, identity.get()));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Records that {@code file} hashes to {@code digest}, with the identity read before it was hashed: a change
     * during the hash leaves a record that no longer matches. No fsync: a record lost in a crash costs one hash.
     */
    void record(Digest digest, Path file, Optional<String> identityBeforeHash) {
        if (identityBeforeHash.isEmpty()) {
            return;
        }
        try {
            Files.writeString(record(digest), line(digest, file, identityBeforeHash.get()),
                    StandardCharsets.US_ASCII);
        } catch (IOException e) {
            // only the next mount's hash is not saved
        }
    }

    /** Forgets a layer's record, as when its file is found damaged. */
    void forget(Digest digest) {
        try {
            Files.deleteIfExists(record(digest));
        } catch (IOException e) {
            // a stale record never matches a new file: its inode or times differ
        }
    }

    /** Drops the records of files no longer there (evicted from the cache); returns how many. */
    int prune() {
        int dropped = 0;
        try (DirectoryStream<Path> records = Files.newDirectoryStream(directory, "*.verified")) {
            for (Path record : records) {
                String[] fields = Files.readString(record, StandardCharsets.US_ASCII).split(" ");
                if (fields.length < 2 || !Files.exists(Path.of(fields[1]))) {
                    Files.deleteIfExists(record);
                    dropped++;
                }
            }
        } catch (IOException | RuntimeException e) {
            // pruning is housekeeping: the next gc tries again
        }
        return dropped;
    }

    static Optional<String> identity(Path file) {
        try {
            Map<String, Object> attributes = Files.readAttributes(file, "unix:dev,ino,size,lastModifiedTime,ctime");
            return Optional.of(attributes.get("dev") + " " + attributes.get("ino") + " " + attributes.get("size") + " "
                    + nanos(attributes.get("lastModifiedTime")) + " " + nanos(attributes.get("ctime")));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String nanos(Object time) {
        FileTime fileTime = (FileTime) time;
        return fileTime.toInstant().getEpochSecond() + "." + fileTime.toInstant().getNano();
    }

    private Path record(Digest digest) {
        return directory.resolve(digest.hex() + ".verified");
    }

    /** One line: the digest, the file (no spaces: a cache path of hex names), then its identity. */
    private static String line(Digest digest, Path file, String identity) {
        return digest.hex() + " " + file.toAbsolutePath() + " " + identity + "\n";
    }
}
