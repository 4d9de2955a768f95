# Included by _fastmatch.pyx (one extension module): one flow, one Verdict, Single.
# Pure twin: _fastmatch_single_py.py.

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    PyObject* PyType_GenericAlloc(PyTypeObject* cls, Py_ssize_t n)

cdef enum:
    _T_OBJECT_EX = 16  # structmember.h: an object slot
    _READONLY = 1

cdef tuple _VERDICT_SLOTS = ("flow", "action", "egress", "ingress", "logged", "pending", "trace", "_replay", "_source")
cdef object _V4 = ipaddress.IPv4Address
cdef object _ALLOW = Action.ALLOW
cdef object _DENY = Action.DENY


cdef Py_ssize_t _slot_offset(type cls, str name) except -1:
    """Where instances of ``cls`` keep attribute ``name``, which must be a writable
    object slot."""
    descriptor = cls.__dict__.get(name)
    if type(descriptor) is not types.MemberDescriptorType:
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    cdef PyMemberDef* member = (<PyMemberDescrObject*><PyObject*>descriptor).d_member
    if member.type != _T_OBJECT_EX or member.flags & _READONLY:
        raise TypeError(f"{cls.__name__}.{name} is not a writable object slot")
    return member.offset


cdef class Single:
    """One flow decided and its Verdict built in one call: the common case of
    ``Engine.evaluate``. The pure twin's ``Single`` is the specification.

    The Verdict is allocated and its slots filled directly: what attrs' frozen
    ``__init__`` would store, without the cost of a Python call per field. The slots are
    found once, here, and every field of Verdict must be one of them.
    """

    cdef Matcher matcher
    cdef list owners
    cdef object other
    cdef object source
    cdef dict names
    cdef Py_ssize_t at[9]  # offsets of _VERDICT_SLOTS

    def __init__(self, Matcher matcher, list owners, other, source, dict names=None):
        if {field.name for field in attrs.fields(Verdict)} != set(_VERDICT_SLOTS):
            raise TypeError("Verdict's fields are not the ones Single fills")
        for k, name in enumerate(_VERDICT_SLOTS):
            self.at[k] = _slot_offset(Verdict, name)
        endpoints = np.asarray(matcher.rec).reshape(-1, 8)[:, 0]
        if len(owners) < 3 + (int(endpoints.max()) + 1 if len(endpoints) else 0):
            raise ValueError("owners must hold three entries, then one per endpoint")  # read unchecked
        self.matcher = matcher
        self.owners = owners
        self.other = other
        self.source = source
        self.names = {} if names is None else names

    cdef inline void _put(self, PyObject* verdict, int k, object value) noexcept:
        """Stores ``value`` into slot ``k`` of a fresh verdict (whose slots are empty)."""
        Py_INCREF(value)
        (<PyObject**>((<char*>verdict) + self.at[k]))[0] = <PyObject*>value

    def evaluate(self, flow):
        cdef uint32_t high, key, skey, s_ip, d_ip
        cdef int32_t e, i, s_ep, d_ep
        cdef const int32_t* s
        cdef const int32_t* d
        cdef uint8_t code
        cdef Matcher m = self.matcher
        src = flow.src
        dst = flow.dst
        cdef int protocol = flow.protocol
        if protocol == 58:
            return self.other(flow)
        if type(src) is _V4:
            s_ip = src._ip
        elif type(src) is str:
            known = self.names.get(src)
            if known is None:
                return self.other(flow)
            s_ip = known
        else:
            return self.other(flow)
        if type(dst) is _V4:
            d_ip = dst._ip
        elif type(dst) is str:
            known = self.names.get(dst)
            if known is None:
                return self.other(flow)
            d_ip = known
        else:
            return self.other(flow)
        high = (<uint32_t>protocol) << _KEY_BITS
        icmp_type = flow.icmp_type
        if icmp_type is None:
            port = flow.dst_port
            key = high if port is None else high | <uint16_t>port
        else:
            icmp_code = flow.icmp_code
            key = high | ((<uint8_t>icmp_type + 1) * 257 + (0 if icmp_code is None else <uint32_t><uint8_t>icmp_code + 1))
        port = flow.src_port
        skey = high if port is None else high | <uint16_t>port
        s = &m.rec[8 * m._find(s_ip)]
        d = &m.rec[8 * m._find(d_ip)]
        code = m._records(s, d, key, skey, &e, &i)
        src_outcomes = self.owners[s[0] + 3]
        dst_outcomes = self.owners[d[0] + 3]
        if code == 2 or src_outcomes is None or dst_outcomes is None:
            return self.other(flow)
        if e >= 0:
            egress, logged, allowed = src_outcomes[e]
            if i >= 0:
                ingress, more, _ = dst_outcomes[i]
                if more and allowed:  # the packet got there
                    logged += more
            else:
                ingress = None
        elif i >= 0:
            egress = None
            ingress, logged, _ = dst_outcomes[i]
        else:
            egress = ingress = None
            logged = ()
        source = self.source()  # explain() re-runs the reference on it
        cdef PyObject* raw = PyType_GenericAlloc(<PyTypeObject*>Verdict, 0)
        if raw == NULL:
            raise MemoryError()
        verdict = <object>raw  # a second reference: given back below
        Py_DECREF(verdict)
        self._put(raw, 0, flow)
        self._put(raw, 1, _ALLOW if code == 1 else _DENY)
        self._put(raw, 2, egress)
        self._put(raw, 3, ingress)
        self._put(raw, 4, logged)
        self._put(raw, 5, None)
        self._put(raw, 6, ())
        self._put(raw, 7, None)
        self._put(raw, 8, source)
        return verdict
