package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.proto.testing.v1.EchoGrpc;
import io.baton.proto.testing.v1.EchoReply;
import io.baton.proto.testing.v1.EchoRequest;
import io.baton.sidecar.server.ServingLine;
import io.baton.sidecar.testsupport.TestCertificates;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * gRPC through the packaged jar to a grpc-java server that speaks TLS only ({@code protocol: h2}
 * cluster): plaintext gRPC clients (h2c) in front, HTTP/2 over TLS with ALPN h2 behind. A cluster
 * whose trusted certificates do not match the member's gives the client UNAVAILABLE.
 */
@Timeout(120)
@ExtendWith(DumpLogsOnFailure.class)
class Http2TlsUpstreamThroughJarTest {

  private final BatonFixture fixture = new BatonFixture();
  private final AtomicInteger calls = new AtomicInteger();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private Server upstream;

  @AfterEach
  void cleanUp() throws InterruptedException {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    fixture.close();
    if (upstream != null) {
      upstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Answers a unary call with its payload and call id; the TLS server only this test needs. */
  private final class Echo extends EchoGrpc.EchoImplBase {
    @Override
    public void unary(EchoRequest request, StreamObserver<EchoReply> out) {
      calls.incrementAndGet();
      out.onNext(
          EchoReply.newBuilder()
              .setCallId(request.getCallId())
              .setPayload("tls:" + request.getPayload())
              .build());
      out.onCompleted();
    }
  }

  private EchoGrpc.EchoBlockingStub plaintextStub(InetSocketAddress baton) {
    ManagedChannel ch =
        NettyChannelBuilder.forAddress(baton.getHostString(), baton.getPort())
            .usePlaintext()
            .disableRetry()
            .build();
    channels.add(ch);
    return EchoGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @Test
  void grpcCallsReachATlsMemberAndAnUntrustedOneIsUnavailable() throws Exception {
    TestCertificates.Pair backend =
        TestCertificates.selfSigned(fixture.dir(), "backend", "backend.localhost");
    TestCertificates.Pair other =
        TestCertificates.selfSigned(fixture.dir(), "other", "other.localhost");
    upstream =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(
                GrpcSslContexts.forServer(
                        backend.certificate().toFile(), backend.privateKey().toFile())
                    .build())
            .addService(new Echo())
            .build()
            .start();
    String member = "127.0.0.1:" + upstream.getPort();
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .httpListener("grpc", "127.0.0.1:0", "echo")
            .httpListener("untrusted", "127.0.0.1:0", "untrusted-echo")
            .tlsClusterOfProtocol("echo", "h2", backend.certificate(), member)
            .tlsClusterOfProtocol("untrusted-echo", "h2", other.certificate(), member)
            .write();
    ServingLine serving = fixture.start(config).awaitServing(Generations.WAIT);

    EchoGrpc.EchoBlockingStub stub = plaintextStub(serving.listener("grpc"));
    for (int i = 0; i < 5; i++) {
      EchoReply reply =
          stub.unary(EchoRequest.newBuilder().setCallId("c" + i).setPayload("p" + i).build());
      assertThat(reply.getPayload()).isEqualTo("tls:p" + i);
      assertThat(reply.getCallId()).isEqualTo("c" + i);
    }
    assertThat(calls.get()).isEqualTo(5);

    StatusRuntimeException refused =
        catchThrowableOfType(
            () ->
                plaintextStub(serving.listener("untrusted"))
                    .unary(EchoRequest.newBuilder().setCallId("u").build()),
            StatusRuntimeException.class);
    assertThat(refused).as("a member whose certificate the cluster does not trust").isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refused.getStatus().getDescription())
        .contains("TLS handshake with " + member + " failed");
    assertThat(calls.get()).as("nothing of the refused call reached the member").isEqualTo(5);

    await()
        .atMost(Generations.WAIT)
        .untilAsserted(
            () ->
                assertThat(Admin.metrics(serving.admin()))
                    .contains(
                        "baton_upstream_errors_total{cluster=\"untrusted-echo\",reason=\"tls_handshake_failed\"}"
                            + " 1.0")
                    .contains(
                        "baton_requests_total{code_class=\"2xx\",listener=\"grpc\",protocol=\"h2\"}"
                            + " 5.0"));
  }
}
