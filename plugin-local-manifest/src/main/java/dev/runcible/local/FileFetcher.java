package dev.runcible.local;

import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.store.StoreFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads {@code file:} locations: regular files only, never through a link leaving their store. */
final class FileFetcher implements ResourceFetcher {
    @Override
    public java.util.Optional<dev.runcible.api.SourceVersion> version(URI location)
            throws ResourceUnavailableException {
        try {
            Path path = Path.of(location);
            var attributes = StoreFiles.regular(StoreFiles.rootOf(path), path);
            return java.util.Optional.of(new dev.runcible.api.SourceVersion(attributes.size(),
                    attributes.lastModifiedTime().toMillis()));
        } catch (NoSuchFileException e) {
            return java.util.Optional.empty();
        } catch (IOException | IllegalArgumentException | InvalidImageException e) {
            throw new ResourceUnavailableException("Cannot read the attributes of " + location + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public java.util.Optional<Path> localFile(URI location) {
        try {
            return java.util.Optional.of(read(location, path -> path));
        } catch (ResourceUnavailableException e) {
            return java.util.Optional.empty(); // open says what is wrong, when the copy comes to it
        }
    }

    @Override
    public java.util.Optional<RandomAccess> openRandomAccess(URI location) throws ResourceUnavailableException {
        return java.util.Optional.of(read(location, FileFetcher::randomAccess));
    }

    @Override
    public InputStream open(URI location) throws ResourceUnavailableException {
        return read(location, Files::newInputStream);
    }

    /** What to do with a store file once it is known to be a regular file of its store. */
    private interface Reader<T> {
        T apply(Path path) throws IOException;
    }

    /** Reads the location with {@code reader} once it is known to be a regular file of its store, no link out. */
    private static <T> T read(URI location, Reader<T> reader) throws ResourceUnavailableException {
        Path path;
        try {
            path = Path.of(location);
        } catch (IllegalArgumentException e) {
            throw new ResourceUnavailableException("Invalid file location '" + location + "': " + e.getMessage(), e);
        }
        try {
            StoreFiles.regular(StoreFiles.rootOf(path), path);
            return reader.apply(path);
        } catch (InvalidImageException e) {
            throw new ResourceUnavailableException(e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new ResourceUnavailableException("File " + path + " does not exist; the store is missing a blob, "
                    + "re-import the image");
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static RandomAccess randomAccess(Path path) throws IOException {
        java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(path);
        long size = channel.size();
        return new RandomAccess() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
                java.nio.ByteBuffer target = java.nio.ByteBuffer.wrap(buffer, offset, length);
                while (target.hasRemaining()) {
                    if (channel.read(target, position + target.position() - offset) < 0) {
                        throw new java.io.EOFException(path + " ends at " + channel.size() + " bytes, before "
                                + (position + length));
                    }
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
