package dev.runcible.squashfs;

import dev.runcible.api.Digest;
import dev.runcible.api.DigestMismatchException;
import dev.runcible.api.ImageConfig;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Brings one blob into a file, verified: copied as it is stored (squashfs, JSON) or converted (tar layers). The
 * stream is cut off one byte past the blob's declared size, and its digest and size are checked as it streams.
 */
final class BlobTransfer {
    private BlobTransfer() {
    }

    /** Fetches the resource into {@code temp}; returns the digest of the file written. */
    static Digest into(Path temp, OciResource resource, ResourceFetcher fetcher, TarLayerConverter converter)
            throws RuncibleException, IOException {
        Digest fileDigest;
        switch (resource.format()) {
            case SQUASHFS, JSON -> {
                fileDigest = copy(fetcher, resource, temp);
            }
            default -> {
                TarLayerConverter.Converted converted;
                try (InputStream in = bounded(fetcher.open(resource.location()), resource)) {
                    converted = converter.convert(in, resource.format(), temp, describe(resource),
                            resource.contentDigest());
                }
                verify(resource, converted.digest(), converted.size());
                checkSquashfs(resource, temp);
                fileDigest = Digest.of(temp);
            }
        }
        return fileDigest;
    }

    /** Copies a blob stored as it is used (squashfs, JSON), verifying it on the way; returns its digest. */
    static Digest copy(ResourceFetcher fetcher, OciResource resource, Path temp)
            throws RuncibleException, IOException {
        boolean linked = resource.format() == OciResource.Format.SQUASHFS && link(fetcher, resource, temp);
        Digest actual;
        long size;
        try (Digest.HashingInputStream in = Digest.hashing(bounded(linked ? Files.newInputStream(temp)
                : fetcher.open(resource.location()), resource));
                OutputStream out = linked ? OutputStream.nullOutputStream()
                        : Files.newOutputStream(temp, StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
            actual = in.digest();
            size = in.count();
        } catch (TarLayerConverter.ResourceFailure e) {
            throw e.failure;
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot fetch " + describe(resource) + ": " + e.getMessage(), e);
        }
        verify(resource, actual, size);
        if (resource.format() == OciResource.Format.SQUASHFS) {
            checkSquashfs(resource, temp);
        }
        return actual;
    }

    /**
     * Puts a hard link to the store's own file in place of {@code temp}, so a cold layer costs one read (its hash)
     * instead of a copy: only for a file of this node on the cache's filesystem that root owns and no one else may
     * write, since the kernel will read the shared inode. Returns false, {@code temp} untouched, otherwise.
     */
    static boolean link(ResourceFetcher fetcher, OciResource resource, Path temp) throws RuncibleException {
        java.util.Optional<Path> source = fetcher.localFile(resource.location());
        if (source.isEmpty()) {
            return false;
        }
        try {
            java.nio.file.attribute.PosixFileAttributes attributes = Files.readAttributes(source.get(),
                    java.nio.file.attribute.PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile() || !attributes.owner().getName().equals("root")
                    || attributes.permissions().contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                    || attributes.permissions().contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
                return false;
            }
            Path link = temp.resolveSibling(temp.getFileName() + ".link");
            try {
                Files.createLink(link, source.get());
            } catch (IOException | UnsupportedOperationException e) {
                return false; // another filesystem (EXDEV), or links not allowed there: copy
            }
            Files.move(link, temp, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The blob's stream, cut off one byte past its declared size (a config's size is capped even if undeclared). */
    static InputStream bounded(InputStream in, OciResource resource) {
        if (resource.contentSize().isPresent()) {
            return new SizeBound(in, resource.contentSize().getAsLong(), describe(resource));
        }
        if (resource.kind() == OciResource.Kind.CONFIG) {
            return new SizeBound(in, ImageConfig.MAX_BYTES, describe(resource) + " (configs are capped at "
                    + ImageConfig.MAX_BYTES + " bytes)");
        }
        return in;
    }

    static void checkSquashfs(OciResource resource, Path file) throws RuncibleException, IOException {
        String problem = SquashfsSuperblock.check(file);
        if (problem != null) {
            throw new ResourceUnavailableException("Layer file " + resource.location().getPath()
                    + " is not a usable squashfs image: " + problem + "; re-import the image");
        }
    }

    static void verify(OciResource resource, Digest actual, long size) throws RuncibleException {
        if (resource.contentSize().isPresent() && resource.contentSize().getAsLong() != size) {
            throw new DigestMismatchException("Size mismatch for " + describe(resource) + ": expected "
                    + resource.contentSize().getAsLong() + " bytes, got " + size + "; the source copy is damaged, "
                    + "re-import the image");
        }
        if (resource.contentDigest().isPresent() && !resource.contentDigest().get().equals(actual)) {
            throw new DigestMismatchException("Digest mismatch for " + describe(resource) + ": expected "
                    + resource.contentDigest().get() + ", got " + actual + "; the source copy is damaged, "
                    + "re-import the image");
        }
    }

    static String describe(OciResource resource) {
        return resource.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + resource.digest() + " from "
                + resource.location();
    }
}
