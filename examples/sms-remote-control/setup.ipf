Document Type: IPF
item: Global
  Version=6.0
  Title English=SMS 2003 Remote Tools Client
  Flags=00001000
  Languages=0 0 65 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
  LanguagesList=English
  Default Language=2
  Japanese Font Name=MS Gothic
  Japanese Font Size=10
  Start Gradient=0 0 255
  End Gradient=0 0 0
  Windows Flags=00010100000000000010110000011000
  Log Pathname=%MAINDIR%\INSTALL.LOG
  Message Font=MS Sans Serif
  Font Size=8
  Disk Filename=SETUP
  Patch Flags=0000000000000001
  Patch Threshold=85
  Patch Memory=4000
  FTP Cluster Size=20
  Variable Name1=_SYS_
  Variable Default1=C:\WINDOWS\system32
  Variable Flags1=00001000
  Variable Name2=_SMSINSTL_
  Variable Default2=C:\Program Files\Microsoft SMS Installer
  Variable Flags2=00001000
end
item: Remark
  Text=SMS 2003 SP2 Remote Tools for workgroup PCs - repackaged from REF-XP-01
end
item: Remark
  Text=capture.reg (HKLM differences) is imported at the end of this script
end
item: Open/Close INSTALL.LOG
  Flags=00000001
end
item: Check if File/Dir Exists
  Pathname=%SYS%
  Flags=10000100
end
item: Set Variable
  Variable=SYS
  Value=%WIN%
end
item: End Block
end
item: Win32 System Directory
  Variable=SYS32
end
item: Set Variable
  Variable=MAINDIR
  Value=%SYS32%\CCM\Clicomp\RemCtrl
end
item: Create Directory
  Pathname=%MAINDIR%
end
item: Install File
  Source=C:\RTPKG\FILES\Wuser32.exe
  Destination=%MAINDIR%\Wuser32.exe
  Flags=0000000000000010
end
item: Install File
  Source=C:\RTPKG\FILES\RCHelp.dll
  Destination=%MAINDIR%\RCHelp.dll
  Flags=0000000000000010
end
item: Install File
  Source=C:\RTPKG\FILES\RemCtrl.dll
  Destination=%MAINDIR%\RemCtrl.dll
  Flags=0000000000000010
end
item: Install File
  Source=C:\RTPKG\FILES\RCHELP.SYS
  Destination=%SYS32%\Drivers\RCHELP.SYS
  Flags=0000000000000010
end
item: Install File
  Source=C:\RTPKG\FILES\KBSTUFF.SYS
  Destination=%SYS32%\Drivers\KBSTUFF.SYS
  Flags=0000000000000010
end
item: Install File
  Source=C:\RTPKG\FILES\SMSMouse.inf
  Destination=%WIN%\inf\SMSMouse.inf
  Flags=0000000000000010
end
item: Create Service
  Service Name=Wuser32
  Executable Path=%MAINDIR%\Wuser32.exe
  Service Type=16
  Boot Type=2
  Error Type=1
  Display Name English=SMS Remote Control Agent
end
item: Edit Registry
  Total Keys=3
  item: Key
    Key=SOFTWARE\Microsoft\SMS\Client\Client Components\Remote Control
    New Value=%MAINDIR%
    Value Name=Installation Directory
    Root=2
  end
  item: Key
    Key=SOFTWARE\Microsoft\SMS\Client\Client Components\Remote Control
    New Value=1
    Value Name=Permission Required
    Root=2
    Data Type=3
  end
  item: Key
    Key=SOFTWARE\Microsoft\SMS\Client\Client Components\Remote Control
    New Value=1
    Value Name=Visible Signal
    Root=2
    Data Type=3
  end
end
item: Execute Program
  Pathname=%WIN%\regedit.exe
  Command Line=/s "%INST%\capture.reg"
  Flags=00000010
end
item: Start/Stop Service
  Service Name=Wuser32
end
