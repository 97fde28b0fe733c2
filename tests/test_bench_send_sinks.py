"""bench_send's built-in sink and bare loop (newsletter/management/sendbench.py): the sink offers PIPELINING and
counts copies per recipient, the loop's processes share the addresses, and an external sink's command must say
where its port goes."""

import smtplib

import pytest

from newsletter.management.sendbench import CountingSink, ExternalSink, raw_loop


@pytest.fixture
def sink():
    running = CountingSink().start()
    yield running
    running.stop()


def test_the_bare_loop_sends_each_address_once_from_every_process(sink):
    template = b"To: %%NAME%% <%%ADDR%%>\r\nSubject: x\r\n\r\nHello %%NAME%%\r\n.dot line\r\n"
    addresses = [(f"raw-{i}@bench.invalid", f"Reader {i}") for i in range(30)]

    sent, seconds, cpu = raw_loop(sink.port, template, "bounces@bench.invalid", addresses, processes=2)

    assert sent == 30 and seconds > 0 and cpu >= 0
    assert sink.count("bench.invalid") == (30, 0)


def test_the_sink_offers_pipelining_and_answers_a_pipelined_group(sink):
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("pipelining")
        client.send(b"MAIL FROM:<a@bench.invalid>\r\nRCPT TO:<b@bench.invalid>\r\nDATA\r\n")
        assert [client.getreply()[0] for _ in range(3)] == [250, 250, 354]
        client.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
        assert client.getreply()[0] == 250
    assert sink.count("bench.invalid") == (1, 0)


def test_an_external_sink_command_must_say_where_the_port_goes():
    with pytest.raises(ValueError, match=r"\{port\}"):
        ExternalSink("/usr/sbin/smtp-sink 127.0.0.1:2525 100")
