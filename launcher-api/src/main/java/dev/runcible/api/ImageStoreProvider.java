package dev.runcible.api;

import java.net.URI;

/** Opens writable image stores of one URI scheme; contributed by a {@link RunciblePlugin}. */
public interface ImageStoreProvider {
    String scheme();

    ImageStore open(URI root, PluginContext context) throws RuncibleException;

    /** Opens a store at a location; what {@link #of} builds a provider from. */
    interface Opener {
        ImageStore open(URI root, PluginContext context) throws RuncibleException;
    }

    /** A provider of stores under the given URI scheme, opened by {@code opener}. */
    static ImageStoreProvider of(String scheme, Opener opener) {
        return new ImageStoreProvider() {
            @Override
            public String scheme() {
                return scheme;
            }

            @Override
            public ImageStore open(URI root, PluginContext context) throws RuncibleException {
                return opener.open(root, context);
            }
        };
    }
}
