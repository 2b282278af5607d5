package dev.runcible.store;

import dev.runcible.api.InvalidImageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Checks a store entry before it is opened. A FIFO would block the reader for good, a device could be read without
 * end (or loop-mounted), a directory is no blob, and a symbolic link leading outside the store could make the
 * launcher read, hash and report a host file. Links inside the store are followed.
 */
public final class StoreFiles {
    private StoreFiles() {
    }

    /**
     * The attributes of the regular file the entry is, or leads to within {@code root}. A missing entry gives
     * {@link NoSuchFileException}; any other kind of entry a typed error naming it.
     */
    public static BasicFileAttributes regular(Path root, Path entry) throws IOException, InvalidImageException {
        BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        if (attributes.isSymbolicLink()) {
            Path target = entry.toRealPath();
            Path realRoot = root.toRealPath();
            if (!target.startsWith(realRoot)) {
                throw new InvalidImageException("Store entry " + entry + " is a symbolic link leading outside the store "
                        + realRoot + "; refusing to read it. Replace it with the file itself");
            }
            attributes = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        }
        if (!attributes.isRegularFile()) {
            throw new InvalidImageException("Store entry " + entry + " is " + kind(attributes)
                    + ", not a regular file; refusing to read it. Replace it with the file itself");
        }
        return attributes;
    }

    /** The store root of a blob entry: {@code ROOT/manifests/HEX}, {@code ROOT/config/HEX}, {@code ROOT/layers/HEX.sqsh}. */
    public static Path rootOf(Path entry) {
        Path parent = entry.toAbsolutePath().getParent();
        return parent.getParent() == null ? parent : parent.getParent();
    }

    private static String kind(BasicFileAttributes attributes) {
        if (attributes.isDirectory()) {
            return "a directory";
        }
        if (attributes.isOther()) {
            return "a FIFO, socket or device";
        }
        return "not a plain file";
    }
}
