package dev.runcible.core.lazy;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The libc calls a FUSE server over {@code /dev/fuse} needs, through JNA: no libfuse on the node. Also the loop
 * ioctls that move a read-only loop device from one backing file to another of the same size.
 */
final class Fuse {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int ENOENT = 2;
    static final int EAGAIN = 11;
    static final int ENODEV = 19;
    static final int ENOSYS = 38;
    static final int ENOTCONN = 107;
    static final long MS_RDONLY = 1;
    static final long MS_NOSUID = 2;
    static final long MS_NODEV = 4;
    static final int MNT_DETACH = 2;
    /** linux/loop.h: replace the backing file of a read-only loop device with one of the same size. */
    static final long LOOP_CHANGE_FD = 0x4C06;
    private static final int PRIO_PROCESS = 0;

    /** The calls used here; each throws {@link LastErrorException} with errno on failure. */
    interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        NativeLong read(int fd, Pointer buffer, NativeLong count) throws LastErrorException;

        NativeLong write(int fd, Pointer buffer, NativeLong count) throws LastErrorException;

        int mount(String source, String target, String type, NativeLong flags, String data) throws LastErrorException;

        int umount2(String target, int flags) throws LastErrorException;

        int ioctl(int fd, NativeLong request, NativeLong argument) throws LastErrorException;

        int setpriority(int which, int who, int priority) throws LastErrorException;

        Pointer mmap(Pointer address, long length, int protection, int flags, int fd, long offset)
                throws LastErrorException;

        int munmap(Pointer address, long length) throws LastErrorException;

        int sched_setaffinity(int pid, long size, Pointer mask) throws LastErrorException;
    }

    /**
     * read(2), write(2) and syscall(2) (for io_uring_enter) directly mapped: they run once per FUSE request, where
     * the proxy of {@link LibC} would add its reflection to every call.
     */
    static final class Direct {
        static native NativeLong read(int fd, Pointer buffer, NativeLong count) throws LastErrorException;

        static native NativeLong write(int fd, Pointer buffer, NativeLong count) throws LastErrorException;

        static native long syscall(long number, long a, long b, long c, long d, long e, long f)
                throws LastErrorException;

        private Direct() {
        }
    }

    private static final LibC LIBC;
    private static final String UNAVAILABLE;

    static {
        LibC libc = null;
        String why = null;
        try {
            libc = Native.load("c", LibC.class);
            Native.register(Direct.class, com.sun.jna.NativeLibrary.getInstance("c"));
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            why = e.getMessage();
        }
        LIBC = libc;
        UNAVAILABLE = why;
    }

    private Fuse() {
    }

    /** Why libc cannot be called here, or empty when it can. */
    static Optional<String> unavailable() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    static LibC libc() {
        if (LIBC == null) {
            throw new IllegalStateException("libc cannot be loaded through JNA: " + UNAVAILABLE);
        }
        return LIBC;
    }

    /** read(2) into a direct buffer from its start; the count read. */
    static int read(int fd, ByteBuffer direct) {
        return Direct.read(fd, Native.getDirectBufferPointer(direct), new NativeLong(direct.capacity())).intValue();
    }

    /** One write(2) of a direct buffer's first {@code length} bytes: a FUSE reply must be one write. */
    static void write(int fd, ByteBuffer direct, int length) {
        Direct.write(fd, Native.getDirectBufferPointer(direct), new NativeLong(length));
    }

    /**
     * Mounts a FUSE filesystem whose root is one read-only regular file (mode 0400, root's) on the regular file
     * {@code target}, served through {@code fd} (an open {@code /dev/fuse}). Only root reaches it: no allow_other.
     */
    static void mountFile(int fd, String target) {
        String data = "fd=" + fd + ",rootmode=100400,user_id=0,group_id=0,default_permissions";
        libc().mount("runcible-lazy", target, "fuse.runcible", new NativeLong(MS_RDONLY | MS_NOSUID | MS_NODEV),
                data);
    }

    /** Where fusectl shows each FUSE connection (a directory named by its device number); mounted when needed. */
    static final java.nio.file.Path CONNECTIONS = java.nio.file.Path.of("/sys/fs/fuse/connections");

    /**
     * Aborts the FUSE connection of the file mounted on {@code mountPoint}, if it is mounted: every request pending
     * on it and every later one fails, as when the last descriptor of its server's {@code /dev/fuse} closes. A
     * server killed while one of its threads waits in the kernel uninterruptibly stays a zombie with that
     * descriptor open (seen with a thread that stored bytes in the page cache while a read held their pages), and
     * the reads pending on it would wait for ever. Returns whether there was a connection to abort.
     */
    static boolean abort(java.nio.file.Path mountPoint) throws java.io.IOException {
        Optional<dev.runcible.core.host.MountTable.Mount> mount = dev.runcible.core.host.MountTable.read().stream()
                .filter(m -> m.mountPoint().equals(mountPoint.toString()) && m.fsType().startsWith("fuse"))
                .findFirst();
        if (mount.isEmpty()) {
            return false;
        }
        String[] majorMinor = mount.get().device().split(":");
        long device = Long.parseLong(majorMinor[0]) << 20 | Long.parseLong(majorMinor[1]); // the kernel's dev_t
        java.nio.file.Path connection = CONNECTIONS.resolve(Long.toString(device));
        if (!java.nio.file.Files.isDirectory(connection)) {
            try {
                libc().mount("fusectl", CONNECTIONS.toString(), "fusectl", new NativeLong(0), null);
            } catch (LastErrorException e) {
                // mounted meanwhile, or not to be: the write below says which
            }
        }
        try {
            java.nio.file.Files.writeString(connection.resolve("abort"), "1");
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // ended meanwhile
        }
        return true;
    }

    /** Detaches a mount now; the kernel finishes it once nothing uses it. */
    static void detach(String target) {
        libc().umount2(target, MNT_DETACH);
    }

    /**
     * Gives the threads of this process whose name (as the kernel knows it) passes {@code which} the nice value
     * {@code nice}: on Linux a nice value is a thread's, and setpriority(2) for a process id changes only that one
     * thread. A thread started later inherits its starter's. Lowering it (to 0 from 19) needs CAP_SYS_NICE, which a
     * server (root) has.
     */
    static void renice(int nice, java.util.function.Predicate<String> which) {
        for (int pass = 0; pass < 2; pass++) { // again for a thread started by one not reniced yet
            java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
            for (java.io.File task : tasks == null ? new java.io.File[0] : tasks) {
                try {
                    if (which.test(java.nio.file.Files.readString(task.toPath().resolve("comm")).strip())) {
                        setNice(task.getName(), nice);
                    }
                } catch (java.io.IOException e) {
                    // ended meanwhile
                }
            }
        }
    }

    /** Gives the calling thread the nice value {@code nice}; a thread it starts inherits it. */
    static void reniceThisThread(int nice) {
        try {
            String self = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self")).toString();
            setNice(self.substring(self.lastIndexOf('/') + 1), nice);
        } catch (java.io.IOException e) {
            // stays at its priority
        }
    }

    /** setpriority(2) for thread {@code tid}; a thread that has ended meanwhile is left alone. */
    private static void setNice(String tid, int nice) {
        try {
            libc().setpriority(PRIO_PROCESS, Integer.parseInt(tid), nice);
        } catch (LastErrorException | NumberFormatException | IllegalStateException e) {
            // ended, or no libc: it stays at its priority
        }
    }

    /** Points the read-only loop device {@code device} at {@code file}, which has its backing file's size. */
    static void changeLoopBacking(String device, String file) {
        int loop = libc().open(device, O_RDONLY | O_CLOEXEC);
        try {
            int backing = libc().open(file, O_RDONLY | O_CLOEXEC);
            try {
                libc().ioctl(loop, new NativeLong(LOOP_CHANGE_FD), new NativeLong(backing));
            } finally {
                libc().close(backing);
            }
        } finally {
            libc().close(loop);
        }
    }
}
