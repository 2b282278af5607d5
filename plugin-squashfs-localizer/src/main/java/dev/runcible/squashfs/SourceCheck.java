package dev.runcible.squashfs;

import dev.runcible.api.OciResource;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.SourceVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Optional;

/**
 * The cache's record of where each squashfs layer came from: {@code CACHE/layers/HEX.sqsh.source} holds the store
 * file's length and modification time when it was copied, and its own modification time says when the store was
 * last asked ({@code squashfs.source-check-seconds}).
 */
final class SourceCheck {
    private final Path root;
    private final PluginContext context;
    private final long checkMillis;

    SourceCheck(Path root, PluginContext context, long checkMillis) {
        this.root = root;
        this.context = context;
        this.checkMillis = checkMillis;
    }

    /**
     * Whether the store rebuilt a squashfs layer in place since it was copied (Storm's {@code docker-to-squash.py
     * -f} keeps the name and writes new bytes). Asked at most every {@code squashfs.source-check-seconds}; a copy
     * with no record of its source adopts the store's present one. Tar layers are named by their content and
     * checked against it, so only squashfs layers are asked about.
     */
    boolean changed(OciResource resource, Path target) throws RuncibleException {
        if (resource.kind() != OciResource.Kind.LAYER || resource.format() != OciResource.Format.SQUASHFS) {
            return false;
        }
        Path record = record(target);
        try {
            long checked;
            try {
                checked = Files.getLastModifiedTime(record).toMillis();
            } catch (NoSuchFileException e) {
                checked = -1;
            }
            if (checked >= 0 && System.currentTimeMillis() - checked < checkMillis) {
                return false;
            }
            Optional<SourceVersion> current = context.fetcher(resource.location().getScheme())
                    .version(resource.location());
            if (current.isEmpty()) {
                return false; // the store cannot say (or lost the file: using the copy beats failing)
            }
            SourceVersion recorded = checked < 0 ? null
                    : SourceVersion.parse(Files.readString(record, StandardCharsets.US_ASCII));
            if (current.get().equals(recorded)) {
                Files.setLastModifiedTime(record, FileTime.fromMillis(System.currentTimeMillis()));
                return false;
            }
            if (recorded == null) {
                write(record, current.get());
                return false;
            }
            return true;
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot use " + record + ": " + e.getMessage()
                    + "; check squashfs.cache.dir is a writable local directory", e);
        }
    }

    /** Records the store file's version a fresh copy was taken at. */
    void record(Path target, SourceVersion version) throws IOException {
        write(record(target), version);
    }

    private void write(Path record, SourceVersion version) throws IOException {
        Path temp = Files.createTempFile(Files.createDirectories(root.resolve("tmp")), record.getFileName() + ".",
                ".tmp");
        try {
            Files.writeString(temp, version + "\n", StandardCharsets.US_ASCII);
            Files.move(temp, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    static Path record(Path squashfs) {
        return squashfs.resolveSibling(squashfs.getFileName() + ".source");
    }
}
