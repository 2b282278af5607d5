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
 * Reads of one HDFS file at any position, from any thread. Each read takes a stream of a small pool, seeks and
 * reads: a stream keeps its connection to the DataNode from one read to the next in the same block, where a
 * positional read ({@code PositionedReadable.readFully}) opens a new one every time, which costs more than
 * moving a mebibyte over loopback. Reads that continue where a stream stopped get that stream. A batch of ranges
 * goes to {@code readVectored}.
 */
final class HdfsRandomAccess implements ResourceFetcher.RandomAccess {
    private static final int POOL = 8;

    private final FileSystem fs;
    private final Path path;
    private final long size;
    private final FSDataInputStream in;
    private final java.util.Deque<FSDataInputStream> idle = new java.util.ArrayDeque<>();

    HdfsRandomAccess(FileSystem fs, Path path) throws IOException {
        this.fs = fs;
        this.path = path;
        this.size = fs.getFileStatus(path).getLen();
        this.in = fs.open(path);
    }

    /** An idle stream, the one that stopped at {@code position} if there is one, or a new stream. */
    private FSDataInputStream take(long position) throws IOException {
        synchronized (idle) {
            for (java.util.Iterator<FSDataInputStream> it = idle.iterator(); it.hasNext(); ) {
                FSDataInputStream stream = it.next();
                if (stream.getPos() == position) {
                    it.remove();
                    return stream;
                }
            }
            if (!idle.isEmpty()) {
                return idle.pollFirst();
            }
        }
        return fs.open(path);
    }

    private void giveBack(FSDataInputStream stream) throws IOException {
        synchronized (idle) {
            if (idle.size() < POOL) {
                idle.addLast(stream);
                return;
            }
        }
        stream.close();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
        checkWithin(position, length);
        FSDataInputStream stream = take(position);
        try {
            if (stream.getPos() != position) {
                stream.seek(position);
            }
            stream.readFully(buffer, offset, length);
        } catch (IOException | RuntimeException e) {
            stream.close(); // its state is unknown now
            throw e;
        }
        giveBack(stream);
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
        synchronized (idle) {
            for (FSDataInputStream stream : idle) {
                stream.close();
            }
            idle.clear();
        }
        in.close();
    }
}
