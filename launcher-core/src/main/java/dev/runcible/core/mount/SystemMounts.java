package dev.runcible.core.mount;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * mount(2), umount2(2) and the loop device ioctls called from the JVM through libc (JNA), so a launch runs no
 * {@code mount}, {@code umount} or {@code losetup} program. Where libc cannot be loaded (no JNA native library for
 * this platform, a noexec temporary directory), {@link #unavailable()} says why and the programs are used.
 */
final class SystemMounts {
    static final long MS_RDONLY = 1;
    static final long MS_NOSUID = 2;
    static final long MS_NODEV = 4;
    /** The most the kernel copies of mount(2)'s data argument: one page, with its terminating zero. */
    static final int MAX_DATA = 4095;

    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int EBUSY = 16;
    /** linux/loop.h: ask /dev/loop-control for a free device; bind a file with its flags in one call (5.8+). */
    private static final long LOOP_CTL_GET_FREE = 0x4C82;
    private static final long LOOP_CONFIGURE = 0x4C0A;
    private static final int LO_FLAGS_READ_ONLY = 1;
    private static final int LO_FLAGS_AUTOCLEAR = 4;
    /** struct loop_config: fd, block_size, loop_info64 (232 bytes), 8 reserved u64. */
    private static final int LOOP_CONFIG_SIZE = 8 + 232 + 64;
    private static final int LO_FLAGS_OFFSET = 8 + 52;
    private static final int LO_FILE_NAME_OFFSET = 8 + 56;
    private static final int LO_NAME_SIZE = 64;
    /** How often a free device is asked for again when another process took it first. */
    private static final int LOOP_ATTEMPTS = 16;

    /** The calls of libc used here; each throws {@link LastErrorException} with errno on failure. */
    interface LibC extends Library {
        int mount(String source, String target, String type, NativeLong flags, String data) throws LastErrorException;

        int umount2(String target, int flags) throws LastErrorException;

        int open(String path, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int ioctl(int fd, NativeLong request, Pointer argument) throws LastErrorException;
    }

    private static final LibC LIBC;
    private static final String UNAVAILABLE;

    /** Set to 1 to use the programs (a test that stands in for mount, an operator ruling out the native path). */
    static final String PROGRAMS_ENV = "RUNCIBLE_MOUNT_PROGRAMS";

    static {
        LibC libc = null;
        String why = null;
        if ("1".equals(System.getenv(PROGRAMS_ENV))) {
            why = PROGRAMS_ENV + "=1";
        } else {
            try {
                libc = Native.load("c", LibC.class);
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                why = e.getMessage();
            }
        }
        LIBC = libc;
        UNAVAILABLE = why;
    }

    private SystemMounts() {
    }

    /** Why libc cannot be called here, or empty when it can. */
    static Optional<String> unavailable() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    static void mount(String source, String target, String type, long flags, String data) {
        LIBC.mount(source, target, type, new NativeLong(flags), data);
    }

    static void unmount(String target) {
        LIBC.umount2(target, 0);
    }

    /**
     * Mounts a squashfs file read-only on a loop device of its own: a free device from {@code /dev/loop-control},
     * bound read-only and autoclear with LOOP_CONFIGURE, then mount(2). The device is freed by the kernel when the
     * mount goes, and at once if the mount fails (its last descriptor, closed here, was the only user).
     */
    static void mountLoop(String file, String target, long flags) {
        int backing = LIBC.open(file, O_RDONLY | O_CLOEXEC);
        try (Memory config = new Memory(LOOP_CONFIG_SIZE)) {
            config.clear();
            config.setInt(0, backing);
            config.setInt(LO_FLAGS_OFFSET, LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR);
            byte[] name = file.getBytes(StandardCharsets.UTF_8);
            config.write(LO_FILE_NAME_OFFSET, name, 0, Math.min(name.length, LO_NAME_SIZE - 1));
            for (int attempt = 1; ; attempt++) {
                String device = "/dev/loop" + freeLoopDevice();
                int loop = LIBC.open(device, O_RDWR | O_CLOEXEC);
                try {
                    try {
                        LIBC.ioctl(loop, new NativeLong(LOOP_CONFIGURE), config);
                    } catch (LastErrorException e) {
                        if (e.getErrorCode() == EBUSY && attempt < LOOP_ATTEMPTS) {
                            continue; // another process bound it between the two calls
                        }
                        throw e;
                    }
                    mount(device, target, "squashfs", flags | MS_RDONLY, null);
                    return;
                } finally {
                    LIBC.close(loop);
                }
            }
        } finally {
            LIBC.close(backing);
        }
    }

    private static int freeLoopDevice() {
        int control = LIBC.open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        try {
            return LIBC.ioctl(control, new NativeLong(LOOP_CTL_GET_FREE), Pointer.NULL);
        } finally {
            LIBC.close(control);
        }
    }
}
