! The lapack recipe's test: solves A x = b with DGESV from the recipe's liblapack.a and
! libblas.a, and a complex system with ZGESV, checking both residuals. Exits with status 1
! (STOP 1) when a check fails.
program solve
  implicit none
  integer, parameter :: n = 4
  double precision :: a(n, n), lu(n, n), b(n, 1), x(n, 1), residual
  complex(8) :: za(n, n), zlu(n, n), zb(n, 1), zx(n, 1)
  integer :: ipiv(n), info
  a = reshape([ 4d0, -2d0,  1d0,  3d0, &
                1d0,  5d0, -3d0,  2d0, &
               -2d0,  1d0,  6d0, -1d0, &
                3d0,  2d0, -1d0,  7d0], [n, n])
  b(:, 1) = matmul(a, [1d0, 2d0, 3d0, 4d0])
  lu = a
  x = b
  call dgesv(n, 1, lu, n, ipiv, x, n, info)
  residual = maxval(abs(matmul(a, x(:, 1)) - b(:, 1)))
  write (*, '(A,I0,A,4F10.6)') 'dgesv info ', info, ' x', x(:, 1)
  write (*, '(A,L1)') 'dgesv residual below 1e-12: ', residual < 1d-12
  if (info /= 0 .or. .not. residual < 1d-12) stop 1
  za = cmplx(a, transpose(a), kind=8)
  zb(:, 1) = matmul(za, [(1d0, 1d0), (2d0, -1d0), (0d0, 3d0), (4d0, 0d0)])
  zlu = za
  zx = zb
  call zgesv(n, 1, zlu, n, ipiv, zx, n, info)
  residual = maxval(abs(matmul(za, zx(:, 1)) - zb(:, 1)))
  write (*, '(A,I0)') 'zgesv info ', info
  write (*, '(A,L1)') 'zgesv residual below 1e-12: ', residual < 1d-12
  if (info /= 0 .or. .not. residual < 1d-12) stop 1
end program
