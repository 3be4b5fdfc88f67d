"""Web Push: VAPID keys (keys.py), what notifies whom (rules.py), the producer that follows the
feed of committed changes into the durable queue (producer.py), and the sender that delivers the
queue (sender.py; VAPID by py_vapid, the pywebpush family). The HTTP endpoints are backend/http/push.py."""
