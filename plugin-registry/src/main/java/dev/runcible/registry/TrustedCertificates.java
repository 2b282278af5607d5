package dev.runcible.registry;

import dev.runcible.api.ResourceUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** The TLS context for registries: the JDK's trusted CAs plus those of {@code registry.ca-file}. */
final class TrustedCertificates {
    private TrustedCertificates() {
    }

    /**
     * TLS for the registry client, its trust store loaded at the first TLS connection: a node that pulls only from
     * plain-HTTP registries never reads the JDK's CA certificates or {@code registry.ca-file}. A CA file that cannot
     * be used fails that connection as a TLS failure naming the file.
     */
    static org.apache.hc.client5.http.ssl.TlsSocketStrategy lazy(Optional<Path> caFile) {
        return new org.apache.hc.client5.http.ssl.TlsSocketStrategy() {
            private org.apache.hc.client5.http.ssl.TlsSocketStrategy loaded;

            @Override
            public javax.net.ssl.SSLSocket upgrade(java.net.Socket socket, String target, int port,
                    Object attachment, org.apache.hc.core5.http.protocol.HttpContext context)
                    throws java.io.IOException {
                return strategy().upgrade(socket, target, port, attachment, context);
            }

            private synchronized org.apache.hc.client5.http.ssl.TlsSocketStrategy strategy()
                    throws javax.net.ssl.SSLException {
                if (loaded == null) {
                    try {
                        loaded = new org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy(context(caFile));
                    } catch (ResourceUnavailableException e) {
                        throw new javax.net.ssl.SSLException(e.getMessage(), e);
                    }
                }
                return loaded;
            }
        };
    }

    static SSLContext context(Optional<Path> caFile) throws ResourceUnavailableException {
        try {
            List<X509TrustManager> managers = new ArrayList<>();
            managers.add(manager(null));
            if (caFile.isPresent()) {
                KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
                extra.load(null, null);
                int i = 0;
                try (InputStream in = Files.newInputStream(caFile.get())) {
                    for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        extra.setCertificateEntry("ca-" + i++, certificate);
                    }
                }
                if (i == 0) {
                    throw new ResourceUnavailableException("registry.ca-file " + caFile.get()
                            + " holds no PEM certificate");
                }
                managers.add(manager(extra));
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new EitherTrustManager(managers)}, null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new ResourceUnavailableException("Cannot load the CA certificates of registry.ca-file "
                    + caFile.orElse(null) + ": " + e.getMessage(), e);
        }
    }

    private static X509TrustManager manager(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                return x509;
            }
        }
        throw new GeneralSecurityException("No X509 trust manager");
    }

    /** Trusts a server chain if any of the managers does. */
    private record EitherTrustManager(List<X509TrustManager> managers) implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("Runcible does not accept client connections");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            CertificateException last = null;
            for (X509TrustManager manager : managers) {
                try {
                    manager.checkServerTrusted(chain, authType);
                    return;
                } catch (CertificateException e) {
                    last = e;
                }
            }
            throw last;
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return managers.stream().flatMap(m -> java.util.Arrays.stream(m.getAcceptedIssuers()))
                    .toArray(X509Certificate[]::new);
        }
    }
}
