package dev.runcible.hdfs;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.StoreCollection;
import dev.runcible.api.TagFile;
import dev.runcible.api.TagRecord;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Writes a Storm/YARN-layout store in HDFS. Each file is written under a temporary name beside its final one,
 * made read-only (0444) and renamed into place. The tag file is rewritten under a lock file (HDFS creates a file
 * exclusively, so one writer holds it) and replaced by an overwriting rename, which HDFS does atomically.
 */
final class HdfsImageStoreWriter implements ImageStore {
    private static final FsPermission READ_ONLY = new FsPermission((short) 0444);
    private static final FsPermission TAG_FILE = new FsPermission((short) 0644);
    /** A lock older than this was left by a writer that died; it is broken. */
    private static final Duration STALE_LOCK = Duration.ofMinutes(5);
    private static final Duration LOCK_WAIT = Duration.ofMinutes(2);

    private final HdfsConnection connection;
    private final HdfsLayout layout;

    HdfsImageStoreWriter(HdfsConnection connection) throws RuncibleException {
        this.connection = connection;
        this.layout = new HdfsLayout(connection.root());
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
    public void putLayer(Digest layer, java.nio.file.Path squashfs, Digest squashfsDigest) throws RuncibleException {
        Path target = layout.layer(layer);
        FileSystem fs = connection.fileSystem();
        Path temp = temp(target);
        try {
            fs.copyFromLocalFile(false, true, new Path(squashfs.toUri()), temp);
            moveReadOnly(fs, temp, target);
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "write layer " + target);
        } finally {
            deleteQuietly(fs, temp);
        }
        publish(layout.layerDigest(layer), (squashfsDigest.hex() + "  " + target.getName() + "\n")
                .getBytes(StandardCharsets.US_ASCII));
    }

    private void publish(Path target, byte[] bytes) throws RuncibleException {
        FileSystem fs = connection.fileSystem();
        Path temp = temp(target);
        try {
            try (OutputStream out = fs.create(temp, false)) {
                out.write(bytes);
            }
            moveReadOnly(fs, temp, target);
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "write " + target);
        } finally {
            deleteQuietly(fs, temp);
        }
    }

    private static Path temp(Path target) {
        return new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    }

    private static void moveReadOnly(FileSystem fs, Path temp, Path target) throws IOException {
        fs.setPermission(temp, READ_ONLY);
        // Content-addressed: when the name exists it already holds these bytes; the rename then fails harmlessly.
        if (!fs.exists(target)) {
            fs.rename(temp, target);
        }
    }

    private static void deleteQuietly(FileSystem fs, Path path) {
        try {
            fs.delete(path, false);
        } catch (IOException e) {
            // a leftover temporary file is ignored by readers and removed by gc
        }
    }

    @Override
    public void tag(List<String> names, Digest manifest) throws RuncibleException {
        rewriteTags(current -> TagFile.retag(current, names, manifest));
    }

    @Override
    public List<TagRecord> tags() throws RuncibleException {
        FileSystem fs = connection.fileSystem();
        return TagFile.parse(readTagFile(fs), layout.tagFile().toString()).records();
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
        FileSystem fs = connection.fileSystem();
        int[] files = {0};
        long[] bytes = {0};
        rewriteTags(current -> {
            StoreCollection collection = new StoreCollection();
            for (TagRecord record : TagFile.parse(current, layout.tagFile().toString()).records()) {
                String text = null;
                try (InputStream in = fs.open(layout.manifest(record.manifest()))) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (FileNotFoundException e) {
                    // a tag pointing at a missing manifest keeps nothing else
                }
                collection.reference(record.manifest(), text);
            }
            Instant cutoff = Instant.now().minus(grace);
            for (String dir : StoreCollection.DIRECTORIES) {
                Path directory = new Path(layout.rootPath(), dir);
                if (!fs.exists(directory)) {
                    continue;
                }
                for (FileStatus status : fs.listStatus(directory)) {
                    if (status.isFile() && collection.collectable(status.getPath().getName(),
                            Instant.ofEpochMilli(status.getModificationTime()), cutoff)) {
                        fs.delete(status.getPath(), false);
                        bytes[0] += status.getLen();
                        files[0]++;
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

    private String readTagFile(FileSystem fs) throws RuncibleException {
        try (InputStream in = fs.open(layout.tagFile())) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (FileNotFoundException e) {
            return "";
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "read " + layout.tagFile());
        }
    }

    private void rewriteTags(TagEdit edit) throws RuncibleException {
        FileSystem fs = connection.fileSystem();
        Path lock = layout.tagLock();
        acquire(fs, lock);
        Path temp = temp(layout.tagFile());
        try {
            String current = readTagFile(fs);
            String next = edit.apply(current);
            if (next.equals(current) && fs.exists(layout.tagFile())) {
                return;
            }
            try (OutputStream out = fs.create(temp, false)) {
                out.write(next.getBytes(StandardCharsets.UTF_8));
            }
            fs.setPermission(temp, TAG_FILE);
            FileContext.getFileContext(layout.root(), fs.getConf()).rename(temp, layout.tagFile(),
                    Options.Rename.OVERWRITE);
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "update " + layout.tagFile());
        } finally {
            deleteQuietly(fs, temp);
            deleteQuietly(fs, lock);
        }
    }

    /** Takes the tag-file lock: HDFS creates a file for one writer only. */
    private void acquire(FileSystem fs, Path lock) throws RuncibleException {
        long deadline = System.currentTimeMillis() + LOCK_WAIT.toMillis();
        long sleep = 20;
        try {
            fs.mkdirs(layout.rootPath());
            while (!fs.createNewFile(lock)) {
                try {
                    FileStatus status = fs.getFileStatus(lock);
                    if (System.currentTimeMillis() - status.getModificationTime() > STALE_LOCK.toMillis()) {
                        fs.delete(lock, false);
                        continue;
                    }
                } catch (FileNotFoundException e) {
                    continue; // released meanwhile
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new ResourceUnavailableException("Cannot lock " + layout.tagFile() + ": " + lock
                            + " has been held for " + LOCK_WAIT.toMinutes() + " minutes; if no import is running, "
                            + "delete it");
                }
                Thread.sleep(sleep);
                sleep = Math.min(sleep * 2, 500);
            }
        } catch (IOException e) {
            throw HdfsConnection.translate(e, "lock " + layout.tagFile());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ResourceUnavailableException("Interrupted while waiting for " + lock, e);
        }
    }

    @Override
    public void close() {
        connection.close();
    }
}
