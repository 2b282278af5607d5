package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** One image a store lists: the names it goes by and the manifest they point at. */
public record TagRecord(List<String> names, Digest manifest) {
    public TagRecord {
        names = List.copyOf(names);
        requireNonNull(manifest, "manifest is null");
    }
}
