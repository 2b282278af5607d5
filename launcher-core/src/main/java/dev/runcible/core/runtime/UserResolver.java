package dev.runcible.core.runtime;

import dev.runcible.api.InvalidImageException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns an image's {@code User} ({@code name}, {@code uid}, {@code name:group}, {@code uid:gid}) into numeric ids,
 * reading the image's own /etc/passwd and /etc/group. Those files are image content: a symlink among them could
 * point outside the root filesystem, so symlinks are refused rather than followed, and at most
 * {@value #MAX_FILE_BYTES} bytes of each are read.
 */
public final class UserResolver {
    private static final int MAX_ID = Integer.MAX_VALUE - 1;
    /** The most of /etc/passwd or /etc/group read: image content, which may be a sparse file of any size. */
    static final int MAX_FILE_BYTES = 4 << 20;

    private UserResolver() {
    }

    public static UserIds resolve(Path rootfs, Optional<String> user) throws InvalidImageException {
        if (user.isEmpty() || user.get().isBlank()) {
            return UserIds.ROOT;
        }
        String spec = user.get().strip();
        String userPart = spec;
        String groupPart = null;
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            userPart = spec.substring(0, colon);
            groupPart = spec.substring(colon + 1);
        }
        List<String[]> passwd = entries(rootfs, "passwd");
        String[] entry = null;
        Integer uid = number(userPart);
        for (String[] candidate : passwd) {
            if (candidate.length >= 7 && (uid == null ? candidate[0].equals(userPart)
                    : candidate[2].equals(Integer.toString(uid)))) {
                entry = candidate;
                break;
            }
        }
        if (uid == null) {
            if (entry == null) {
                throw new InvalidImageException("User '" + userPart + "' is not in the image's /etc/passwd; give a "
                        + "numeric uid instead");
            }
            uid = parseId(entry[2], "uid of " + userPart);
        }
        List<String[]> groups = entries(rootfs, "group");
        int gid;
        if (groupPart != null && !groupPart.isEmpty()) {
            Integer numeric = number(groupPart);
            if (numeric != null) {
                gid = numeric;
            } else {
                String name = groupPart;
                String[] group = groups.stream().filter(g -> g.length >= 3 && g[0].equals(name)).findFirst()
                        .orElseThrow(() -> new InvalidImageException("Group '" + name
                                + "' is not in the image's /etc/group; give a numeric gid instead"));
                gid = parseId(group[2], "gid of " + name);
            }
        } else {
            gid = entry != null ? parseId(entry[3], "gid of " + userPart) : 0;
        }
        List<Integer> additional = new ArrayList<>();
        if (entry != null) {
            for (String[] group : groups) {
                if (group.length >= 4 && List.of(group[3].split(",")).contains(entry[0])) {
                    int id = parseId(group[2], "gid of group " + group[0]);
                    if (id != gid && !additional.contains(id)) {
                        additional.add(id);
                    }
                }
            }
        }
        String home = entry != null && entry[5].startsWith("/") ? entry[5] : "/";
        return new UserIds(uid, gid, additional, home);
    }

    private static Integer number(String text) throws InvalidImageException {
        if (text.isEmpty() || !text.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return parseId(text, "id");
    }

    private static int parseId(String text, String what) throws InvalidImageException {
        try {
            long value = Long.parseLong(text);
            if (value < 0 || value > MAX_ID) {
                throw new NumberFormatException();
            }
            return (int) value;
        } catch (NumberFormatException e) {
            throw new InvalidImageException("Invalid " + what + " '" + text + "' in the image");
        }
    }

    private static List<String[]> entries(Path rootfs, String name) throws InvalidImageException {
        Path etc = rootfs.resolve("etc");
        Path file = etc.resolve(name);
        if (Files.isSymbolicLink(etc) || Files.isSymbolicLink(file)) {
            throw new InvalidImageException("The image's /etc/" + name + " is a symbolic link; refusing to follow it "
                    + "to resolve a user name (use a numeric uid:gid)");
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new InvalidImageException("The image's /etc/" + name + " is " + size + " bytes, above the "
                        + MAX_FILE_BYTES + " bytes read to resolve a user; rebuild the image with a smaller one");
            }
            List<String[]> out = new ArrayList<>();
            String text;
            try (java.io.InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
                if (bytes.length > MAX_FILE_BYTES) {
                    throw new InvalidImageException("The image's /etc/" + name + " is larger than "
                            + MAX_FILE_BYTES + " bytes; rebuild the image with a smaller one");
                }
                text = new String(bytes, StandardCharsets.UTF_8);
            }
            for (String line : text.split("\\r?\\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line.split(":", -1));
                }
            }
            return out;
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new InvalidImageException("Cannot read the image's /etc/" + name + ": " + e.getMessage());
        }
    }
}
