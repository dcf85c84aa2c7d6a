"""What the tests share: throwaway servers and processes, replayed providers, fakes and
real prices."""
