package dev.runcible.local;

import dev.runcible.api.Digest;
import dev.runcible.api.FileLocks;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.StoreCollection;
import dev.runcible.api.TagFile;
import dev.runcible.api.TagRecord;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes a Storm/YARN-layout store on a local filesystem. Every file is written to a temporary name in its
 * final directory and renamed into place (read-only), so readers never see a partial file; the tag file is
 * rewritten under an exclusive lock so concurrent imports lose no line.
 */
final class LocalImageStoreWriter implements ImageStore {
    /** File locks belong to the process: this keeps threads of one process apart before they take it. */
    private static final ReentrantLock TAGGING = new ReentrantLock();

    private final StoreLayout layout;

    LocalImageStoreWriter(Path root) {
        this.layout = new StoreLayout(root);
    }

    @Override
    public String location() {
        return layout.root().toString();
    }

    @Override
    public void putManifest(Digest digest, byte[] bytes) throws RuncibleException {
        publish(layout.manifest(digest), bytes);
    }

    @Override
    public void putConfig(Digest digest, byte[] bytes) throws RuncibleException {
        publish(layout.config(digest), bytes);
    }

    @Override
    public void putLayer(Digest layer, Path squashfs, Digest squashfsDigest) throws RuncibleException {
        Path target = layout.layer(layer);
        try {
            Path temp = tempBeside(target);
            try {
                Files.copy(squashfs, temp, StandardCopyOption.REPLACE_EXISTING);
                moveReadOnly(temp, target);
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot write layer " + target + ": " + e.getMessage(), e);
        }
        String record = squashfsDigest.hex() + "  " + target.getFileName() + "\n";
        publish(layout.layerDigest(layer), record.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void tag(List<String> names, Digest manifest) throws RuncibleException {
        rewriteTags(current -> TagFile.retag(current, names, manifest));
    }

    @Override
    public List<TagRecord> tags() throws RuncibleException {
        return new LocalImageStore(layout.root()).list();
    }

    @Override
    public List<String> untag(List<String> names) throws RuncibleException {
        List<String> removed = new ArrayList<>();
        rewriteTags(current -> {
            TagFile before = TagFile.parse(current, layout.tagFile().toString());
            names.stream().filter(before.byName()::containsKey).forEach(removed::add);
            return TagFile.without(current, names);
        });
        return removed;
    }

    @Override
    public Collected collect(Duration grace) throws RuncibleException {
        int[] files = {0};
        long[] bytes = {0};
        rewriteTags(current -> {
            StoreCollection collection = new StoreCollection();
            for (TagRecord record : TagFile.parse(current, layout.tagFile().toString()).records()) {
                Path manifest = layout.manifest(record.manifest());
                collection.reference(record.manifest(), Files.exists(manifest)
                        ? Files.readString(manifest, StandardCharsets.UTF_8) : null);
            }
            Instant cutoff = Instant.now().minus(grace);
            for (String dir : StoreCollection.DIRECTORIES) {
                Path directory = layout.root().resolve(dir);
                if (!Files.isDirectory(directory)) {
                    continue;
                }
                try (Stream<Path> entries = Files.list(directory)) {
                    for (Path file : entries.toList()) {
                        if (collection.collectable(file.getFileName().toString(),
                                Files.getLastModifiedTime(file).toInstant(), cutoff)) {
                            bytes[0] += Files.size(file);
                            Files.delete(file);
                            files[0]++;
                        }
                    }
                }
            }
            return current;
        });
        return new Collected(files[0], bytes[0]);
    }

    private interface TagEdit {
        String apply(String current) throws IOException;
    }

    /** Reads, edits and atomically replaces the tag file under the store's lock. */
    private void rewriteTags(TagEdit edit) throws RuncibleException {
        Path file = layout.tagFile();
        TAGGING.lock();
        try {
            Files.createDirectories(layout.root());
            try (FileChannel lockChannel = FileChannel.open(layout.tagLock(), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = FileLocks.exclusive(lockChannel)) {
                String current;
                try {
                    current = Files.readString(file, StandardCharsets.UTF_8);
                } catch (NoSuchFileException e) {
                    current = "";
                }
                String next = edit.apply(current);
                if (next.equals(current) && Files.exists(file)) {
                    return;
                }
                Path temp = tempBeside(file);
                try {
                    Files.writeString(temp, next, StandardCharsets.UTF_8);
                    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
                    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(temp);
                }
            }
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot update " + file + ": " + e.getMessage(), e);
        } finally {
            TAGGING.unlock();
        }
    }

    private static void publish(Path target, byte[] bytes) throws RuncibleException {
        try {
            Path temp = tempBeside(target);
            try {
                Files.write(temp, bytes);
                moveReadOnly(temp, target);
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    private static Path tempBeside(Path target) throws IOException {
        Files.createDirectories(target.getParent());
        return Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
    }

    private static void moveReadOnly(Path temp, Path target) throws IOException {
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
        try {
            // Content-addressed: an existing file of this name already holds these bytes (or is checked on use).
            if (!Files.exists(target)) {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (FileAlreadyExistsException e) {
            // Another writer published the same content first.
        }
    }
}
