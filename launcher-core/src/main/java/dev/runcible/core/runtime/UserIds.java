package dev.runcible.core.runtime;

import java.util.List;

/** The uid, gid and supplementary groups a container process runs with, and its home directory. */
public record UserIds(int uid, int gid, List<Integer> additionalGids, String home) {
    public static final UserIds ROOT = new UserIds(0, 0, List.of(), "/root");

    public UserIds {
        additionalGids = List.copyOf(additionalGids);
    }
}
