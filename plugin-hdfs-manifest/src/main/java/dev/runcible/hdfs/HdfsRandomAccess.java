package dev.runcible.hdfs;

import dev.runcible.api.ResourceFetcher;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileRange;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Positional reads of one HDFS file: {@code PositionedReadable.readFully}, which the DFS client serves from any
 * thread without moving the stream, and {@code readVectored} for a batch of ranges.
 */
final class HdfsRandomAccess implements ResourceFetcher.RandomAccess {
    private final Path path;
    private final long size;
    private final FSDataInputStream in;

    HdfsRandomAccess(FileSystem fs, Path path) throws IOException {
        this.path = path;
        this.size = fs.getFileStatus(path).getLen();
        this.in = fs.open(path);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
        checkWithin(position, length);
        in.readFully(position, buffer, offset, length);
    }

    @Override
    public void readAll(List<ResourceFetcher.Range> ranges) throws IOException {
        List<FileRange> parts = new ArrayList<>();
        for (ResourceFetcher.Range range : ranges) {
            checkWithin(range.position(), range.buffer().length);
            parts.add(FileRange.createFileRange(range.position(), range.buffer().length));
        }
        in.readVectored(parts, ByteBuffer::allocate);
        for (int i = 0; i < parts.size(); i++) {
            try {
                parts.get(i).getData().get().get(ranges.get(i).buffer());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("Interrupted while reading " + path);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
    }

    private void checkWithin(long position, int length) throws EOFException {
        if (position + length > size) {
            throw new EOFException(path + " is " + size + " bytes long, shorter than " + (position + length));
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
